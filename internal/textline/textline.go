// Package textline puts multi-line text on one line: error messages
// (errors.Join, SDK and YAML errors) that go into logs, /status, etcd, a
// table cell or the one line a command prints on failure.
//
// It is a leaf: it imports nothing of vpcroute, so every package, the
// simulator included, may use it. What differs between callers (an error
// rather than a string, redaction, the separator) stays at the caller.
package textline

import "strings"

// Lines returns the non-blank lines of s (split at "\n" and "\r"), each
// with its runs of white space turned into one space and trimmed.
func Lines(s string) []string {
	var out []string
	for _, line := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }) {
		if line = strings.Join(strings.Fields(line), " "); line != "" {
			out = append(out, line)
		}
	}
	return out
}

// Join returns Lines(s) joined with sep. With sep " " it is every run of
// white space in s turned into one space, trimmed; with "; " the line
// breaks stay visible.
func Join(s, sep string) string { return strings.Join(Lines(s), sep) }
