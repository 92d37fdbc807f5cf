package lab

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

var chainCounters = regexp.MustCompile(`^(:\S+ \S+) \[\d+:\d+\]$`)

// NormalizeIptables makes iptables-save output comparable: comment lines
// (they carry timestamps) are dropped and chain counters removed. Rule order
// is kept: it matters to iptables.
func NormalizeIptables(save string) string {
	var b strings.Builder
	for _, line := range strings.Split(save, "\n") {
		line = strings.TrimRight(line, " \r")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if m := chainCounters.FindStringSubmatch(line); m != nil {
			line = m[1]
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}

// DuplicateRules lists rules ("-A …" lines) that appear more than once in
// the same table, as "table: rule".
func DuplicateRules(save string) []string {
	seen := map[string]int{}
	var order []string
	table := ""
	for _, line := range strings.Split(NormalizeIptables(save), "\n") {
		switch {
		case strings.HasPrefix(line, "*"):
			table = line[1:]
		case strings.HasPrefix(line, "-A "):
			k := table + ": " + line
			if seen[k] == 1 {
				order = append(order, k)
			}
			seen[k]++
		}
	}
	return order
}

// SortedRules returns the normalized lines sorted within each table: the
// same set of chains and rules compares equal whatever order Docker
// re-inserted its own rules in after a restart.
func SortedRules(save string) string {
	var b strings.Builder
	var block []string
	flush := func() {
		sort.Strings(block)
		for _, l := range block {
			b.WriteString(l)
			b.WriteByte('\n')
		}
		block = block[:0]
	}
	for _, line := range strings.Split(NormalizeIptables(save), "\n") {
		switch {
		case line == "":
		case strings.HasPrefix(line, "*"), line == "COMMIT":
			flush()
			b.WriteString(line)
			b.WriteByte('\n')
		default:
			block = append(block, line)
		}
	}
	flush()
	return b.String()
}

// IptablesSave returns host h's IPv4 rules, normalized.
func (l *Lab) IptablesSave(ctx context.Context, h *Host) (string, error) {
	out, err := l.HostExec(ctx, h, "iptables-save")
	if err != nil {
		return "", fmt.Errorf("iptables-save on %s: %w", h.Name, err)
	}
	return NormalizeIptables(out), nil
}

// DiffLines is a small line diff for test failures: lines only in a ("-")
// and only in b ("+"), in order.
func DiffLines(a, b string) string {
	count := func(s string) map[string]int {
		m := map[string]int{}
		for _, l := range strings.Split(s, "\n") {
			m[l]++
		}
		return m
	}
	ca, cb := count(a), count(b)
	var out []string
	for _, l := range strings.Split(a, "\n") {
		if cb[l] > 0 {
			cb[l]--
			continue
		}
		out = append(out, "- "+l)
	}
	for _, l := range strings.Split(b, "\n") {
		if ca[l] > 0 {
			ca[l]--
			continue
		}
		out = append(out, "+ "+l)
	}
	return strings.Join(out, "\n")
}

// ChainRules returns the rules of one chain of one table, in order, each
// without its "-A CHAIN " prefix.
func ChainRules(save, table, chain string) []string {
	var out []string
	cur := ""
	prefix := "-A " + chain + " "
	for _, line := range strings.Split(NormalizeIptables(save), "\n") {
		switch {
		case strings.HasPrefix(line, "*"):
			cur = line[1:]
		case cur == table && strings.HasPrefix(line, prefix):
			out = append(out, strings.TrimPrefix(line, prefix))
		}
	}
	return out
}
