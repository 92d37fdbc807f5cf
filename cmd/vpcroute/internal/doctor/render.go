package doctor

import (
	"fmt"
	"io"
	"strings"
)

// RenderText writes the report for a person: a header, one line per check
// (verdict, ID, title) with the cause and, unless it passed, the fix
// indented below, and a summary line.
func RenderText(w io.Writer, r Report) error {
	var b strings.Builder
	host := r.Host.Instance
	if host == "" {
		host = "this host (instance unknown)"
	} else if r.Host.PrivateIP != "" {
		host += " (" + r.Host.PrivateIP + ")"
	}
	fmt.Fprintf(&b, "vpcroute doctor: %s, cluster %s, provider %s\n\n", host, r.Cluster, r.Host.Provider)
	width := 0
	for _, c := range r.Checks {
		width = max(width, len(c.ID))
	}
	for _, c := range r.Checks {
		fmt.Fprintf(&b, "%-4s  %-*s  %s\n", c.Result, width, c.ID, c.Title)
		indent := strings.Repeat(" ", 6)
		if c.Result == Pass || c.Result == Skip {
			fmt.Fprintf(&b, "%s%s\n", indent, c.Cause)
			continue
		}
		fmt.Fprintf(&b, "%scause: %s\n", indent, c.Cause)
		if c.Fix != "" {
			fmt.Fprintf(&b, "%sfix:   %s\n", indent, c.Fix)
		}
	}
	s := r.Summary
	fmt.Fprintf(&b, "\n%s: %d checks, %d passed, %d warned, %d failed, %d skipped\n", s.Result, len(r.Checks), s.Pass, s.Warn, s.Fail, s.Skip)
	_, err := io.WriteString(w, b.String())
	return err
}
