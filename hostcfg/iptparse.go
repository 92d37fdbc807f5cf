package hostcfg

import (
	"fmt"
	"slices"
	"strings"
)

// chainDump is a chain as `iptables -S CHAIN` prints it: its policy (built-in
// chains only) and its rules in order.
type chainDump struct {
	policy string
	rules  []spec
}

// parseChain parses the lines of `iptables -t T -S CHAIN` (as go-iptables'
// List returns them). Lines for other chains are an error: they would mean
// the output is not what we asked for.
func parseChain(chain string, lines []string) (chainDump, error) {
	var d chainDump
	for _, line := range lines {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		toks, err := splitRule(line)
		if err != nil {
			return chainDump{}, fmt.Errorf("parse %q: %w", line, err)
		}
		if len(toks) < 2 || toks[1] != chain {
			return chainDump{}, fmt.Errorf("parse %q: expected a line for chain %s", line, chain)
		}
		switch toks[0] {
		case "-P":
			if len(toks) != 3 {
				return chainDump{}, fmt.Errorf("parse %q: expected \"-P %s POLICY\"", line, chain)
			}
			d.policy = toks[2]
		case "-N":
		case "-A":
			d.rules = append(d.rules, spec(toks[2:]))
		default:
			return chainDump{}, fmt.Errorf("parse %q: unknown command %s", line, toks[0])
		}
	}
	return d, nil
}

// splitRule splits an iptables -S line into arguments. iptables quotes
// arguments containing spaces or quotes (comments mostly) with double quotes
// and escapes '"' and '\' inside them with a backslash.
func splitRule(line string) ([]string, error) {
	var (
		toks    []string
		cur     strings.Builder
		inTok   bool
		inQuote bool
	)
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case inQuote && c == '\\' && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
		case inQuote && c == '"':
			inQuote = false
		case inQuote:
			cur.WriteByte(c)
		case c == '"':
			inQuote, inTok = true, true
		case c == ' ' || c == '\t':
			if inTok {
				toks = append(toks, cur.String())
				cur.Reset()
				inTok = false
			}
		default:
			cur.WriteByte(c)
			inTok = true
		}
	}
	if inQuote {
		return nil, fmt.Errorf("unterminated quote")
	}
	if inTok {
		toks = append(toks, cur.String())
	}
	return toks, nil
}

// String renders the spec the way `iptables -S` does, for logs and errors.
func (s spec) String() string {
	out := make([]string, len(s))
	for i, t := range s {
		if t == "" || strings.ContainsAny(t, " \t\"\\") {
			t = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(t) + `"`
		}
		out[i] = t
	}
	return strings.Join(out, " ")
}

// equal reports whether two specs are the same rule.
func (s spec) equal(o spec) bool { return slices.Equal(s, o) }

// ownedBy reports whether the rule carries the comment tag.
func (s spec) ownedBy(tag string) bool {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == "--comment" && s[i+1] == tag {
			return true
		}
	}
	return false
}

// target returns the rule's jump (-j) or goto (-g) target, "" if none.
func (s spec) target() string {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == "-j" || s[i] == "-g" {
			return s[i+1]
		}
	}
	return ""
}
