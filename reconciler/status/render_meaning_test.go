package status

import (
	"fmt"
	"strings"
	"testing"
)

// checkMeaning asserts what a rendering of d must say, derived from d and
// not from the golden files (which -update rewrites from the code under
// test): who leads, how many hosts and which, each route table's numbers,
// the pass's result and error, every conflict, held delete and error.
func checkMeaning(t *testing.T, d Document, out string) {
	t.Helper()
	lines := strings.Split(out, "\n")
	// labelled returns the first line that starts with label (after the
	// indentation), or fails.
	labelled := func(label string) string {
		t.Helper()
		for _, l := range lines {
			if strings.HasPrefix(strings.TrimSpace(l), label) {
				return l
			}
		}
		t.Errorf("no line starting with %q", label)
		return ""
	}
	// row returns the fields of the table row whose first cell is first.
	row := func(first string) []string {
		t.Helper()
		for _, l := range lines {
			if f := strings.Fields(l); len(f) > 0 && f[0] == first && strings.HasPrefix(l, "  ") {
				return f
			}
		}
		t.Errorf("no table row for %s", first)
		return nil
	}
	has := func(line string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(line, w) {
				t.Errorf("%q does not say %q", line, w)
			}
		}
	}

	head := labelled("vpcroute ")
	if d.Cluster != "" {
		has(head, "cluster "+d.Cluster, "mode "+d.Mode)
	}
	host := labelled("Host ")
	if d.Host.Instance != "" {
		has(host, d.Host.Instance)
	}
	if d.Host.Registered == strings.Contains(host, "not registered") {
		t.Errorf("host line %q, registered = %v", host, d.Host.Registered)
	}
	if e := d.Host.HostConfig.Error; e != "" {
		has(labelled("error: "+e), e)
	}

	leader := labelled("Leader")
	switch {
	case !d.Leader.Known:
		has(leader, "unknown")
	case d.Leader.IsSelf:
		has(leader, d.Leader.Instance, "this host")
	default:
		has(leader, d.Leader.Instance, d.Leader.StatusAddr)
		if strings.Contains(leader, "this host") {
			t.Errorf("leader line %q claims this host leads", leader)
		}
	}

	has(labelled("Registered hosts:"), fmt.Sprintf("Registered hosts: %d", len(d.Hosts)))
	for _, h := range d.Hosts {
		r := strings.Join(row(h.Instance), " ")
		has(r, h.PrivateIP.String(), h.Version)
		for _, s := range h.Subnets {
			has(r, s.Subnet.String())
		}
	}

	rep := d.Reconcile
	if rep == nil {
		has(labelled("Last reconcile"), "none yet")
	} else {
		has(labelled("Last reconcile"), rep.Result, fmt.Sprintf("%d created, %d deleted", rep.Created, rep.Deleted))
		if rep.Error != "" {
			labelled("error: " + rep.Error)
		}
		has(labelled("Route tables:"), fmt.Sprintf("Route tables: %d", len(rep.Tables)))
		for _, tb := range rep.Tables {
			want := []string{tb.ID, itoa(tb.Desired), itoa(tb.Actual), itoa(tb.Pending), itoa(tb.Conflicts), itoa(tb.Entries)}
			if got := row(tb.ID); strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("table row %q, want desired/actual/pending/conflicts/entries %q", got, want)
			}
		}
		for _, c := range rep.ClaimConflicts {
			has(labelled(c.Refused.Subnet.String()+" of "+c.Refused.Instance), "refused", c.Holder.Instance, c.Holder.Subnet.String())
		}
		for _, h := range rep.Held {
			has(labelled(h.Route.Destination.String()+" -> "), h.Route.TableID, h.Route.Target)
		}
		for _, c := range rep.Conflicts {
			has(out, c.Reason)
		}
	}

	var calls int64
	for _, c := range d.API {
		calls += c.Count
	}
	has(labelled("Cloud API calls"), fmt.Sprintf(": %d", calls))

	if len(d.Errors) == 0 {
		has(labelled("Recent errors:"), "none")
	}
	for _, e := range d.Errors {
		want := e.Message
		if e.Count > 1 {
			want += fmt.Sprintf(" (%d times)", e.Count)
		}
		has(out, e.Component, want)
	}
}
