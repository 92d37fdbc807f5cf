package status

import (
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/reconciler"
)

// Render writes d as a report for a person (`vpcroute status`). Ages are
// relative to d.Generated, so the output depends on the document alone.
func Render(w io.Writer, d Document) error {
	r := &renderer{ew: &errWriter{w: w}, now: d.Generated}
	r.header(d)
	r.host(d)
	r.loops(d.Loops)
	r.dependencies(d.Dependencies)
	r.hosts(d.Hosts)
	r.reconcile(d)
	r.api(d.API)
	r.errors(d.Errors)
	return r.ew.err
}

type renderer struct {
	ew  *errWriter
	now time.Time
}

// errWriter keeps the first write error so that the rendering code can
// write freely and Render reports it once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

// printf writes a line; every string argument is made printable, since
// it may come from the registry or the cloud.
func (r *renderer) printf(format string, args ...any) {
	_, _ = fmt.Fprintf(r.ew, format, printableArgs(args)...) // kept in r.ew.err
}

// table writes aligned rows, each indented by two spaces.
func (r *renderer) table(header []string, rows [][]string) {
	tw := tabwriter.NewWriter(r.ew, 0, 0, 2, ' ', 0)
	for _, row := range append([][]string{header}, rows...) {
		cells := make([]string, len(row))
		for i, c := range row {
			// Escaped, a tab or newline inside a cell cannot break the
			// columns, nor a terminal sequence reach the terminal.
			cells[i] = printable(c)
		}
		_, _ = fmt.Fprintf(tw, "  %s\n", strings.Join(cells, "\t"))
	}
	_ = tw.Flush() // kept in r.ew.err
}

func (r *renderer) header(d Document) {
	r.printf("vpcroute %s · cluster %s · mode %s · %s\n\n",
		orDash(d.Version), orDash(d.Cluster), orDash(d.Mode), stamp(d.Generated))
}

func (r *renderer) host(d Document) {
	h := d.Host
	reg := "not registered"
	if h.Registered {
		reg = "registered"
	}
	r.printf("Host         %s  %s  routes to %s  %s\n", orDash(h.Instance), addr(h.PrivateIP), orDash(h.Target.String()), reg)
	r.printf("Subnets      %s\n", prefixes(h.Subnets))

	hc := h.HostConfig
	line := orDash(hc.State)
	if hc.State == "" {
		line = "not applied yet"
	}
	if !hc.LastApplied.IsZero() {
		line += ", applied " + r.ago(hc.LastApplied)
	}
	if !hc.LastChange.IsZero() {
		line += ", last change " + r.ago(hc.LastChange)
	}
	r.printf("Host config  %s\n", line)
	if hc.Error != "" {
		r.printf("             error: %s\n", hc.Error)
	}
	for _, s := range hc.Drift {
		r.printf("             drift: %s\n", s)
	}

	l := d.Leader
	switch {
	case !l.Known:
		r.printf("Leader       unknown (none elected, or the registry is unreachable)\n")
	case l.IsSelf:
		r.printf("Leader       %s (this host)\n", orDash(l.Instance))
	case l.StatusAddr != "":
		r.printf("Leader       %s, status at %s\n", orDash(l.Instance), l.StatusAddr)
	default:
		r.printf("Leader       %s\n", orDash(l.Instance))
	}
	for _, c := range h.ClaimConflicts {
		r.printf("Claim        %s\n", claimLine(c))
	}
	if h.BIPMismatch != "" {
		r.printf("Docker       %s\n", h.BIPMismatch)
	}
	if h.RecordRefused != "" {
		r.printf("Record       refused by the leader: %s\n", h.RecordRefused)
	}
	r.printf("\n")
}

// loops writes the daemon's watched loops and when each last made
// progress; a stuck one is why /healthz fails.
func (r *renderer) loops(loops []LoopStatus) {
	if len(loops) == 0 {
		r.printf("Loops: not reported\n\n")
		return
	}
	stuck := 0
	rows := make([][]string, 0, len(loops))
	for _, l := range loops {
		state := "ok"
		if l.Stuck {
			state, stuck = "STUCK", stuck+1
		}
		rows = append(rows, []string{orDash(l.Name), r.ago(l.LastBeat), age(l.Allowance), state})
	}
	if stuck == 0 {
		r.printf("Loops: %d, all making progress\n", len(loops))
	} else {
		r.printf("Loops: %d, %d stuck (/healthz fails)\n", len(loops), stuck)
	}
	r.table([]string{"LOOP", "LAST PROGRESS", "ALLOWED", "STATE"}, rows)
	r.printf("\n")
}

// dependencies writes Docker, the cloud API and etcd as the daemon last
// reached them; a missing one is why /readyz fails.
func (r *renderer) dependencies(deps []Dependency) {
	if len(deps) == 0 {
		return // a daemon older than the field, or a one-shot command
	}
	rows := make([][]string, 0, len(deps))
	for _, d := range deps {
		rows = append(rows, []string{d.Name, d.State, r.ago(d.Since), orDash(d.Error)})
	}
	r.printf("Dependencies:\n")
	r.table([]string{"NAME", "STATE", "SINCE", "ERROR"}, rows)
	r.printf("\n")
}

func (r *renderer) hosts(hosts []reconciler.Host) {
	r.printf("Registered hosts: %d\n", len(hosts))
	if len(hosts) == 0 {
		r.printf("\n")
		return
	}
	rows := make([][]string, 0, len(hosts))
	for _, h := range hosts {
		rows = append(rows, []string{orDash(h.Instance), addr(h.PrivateIP), prefixes(h.SubnetPrefixes()),
			r.ago(h.LastSeen), orDash(h.Version), orDash(h.HostConfig)})
	}
	r.table([]string{"INSTANCE", "IP", "SUBNETS", "LAST SEEN", "VERSION", "HOST CONFIG"}, rows)
	r.printf("\n")
}

func (r *renderer) reconcile(d Document) {
	rep := d.Reconcile
	if rep == nil {
		r.printf("Last reconcile  none yet\n")
		r.printf("Last success    %s\n\n", r.ago(d.LastSuccess))
		return
	}
	by := ""
	if rep.Leader != "" {
		by = " by " + rep.Leader
	}
	trigger := ""
	if rep.Trigger != "" {
		trigger = " (" + rep.Trigger + ")"
	}
	r.printf("Last reconcile  %s%s%s: %s in %s, %d created, %d deleted\n",
		r.ago(rep.Started), by, trigger, orDash(rep.Result), duration(rep.Duration), rep.Created, rep.Deleted)
	if rep.Error != "" {
		r.printf("                error: %s\n", rep.Error)
	}
	r.printf("Last success    %s\n\n", r.ago(d.LastSuccess))

	r.printf("Route tables: %d\n", len(rep.Tables))
	if len(rep.Tables) > 0 {
		rows := make([][]string, 0, len(rep.Tables))
		for _, t := range rep.Tables {
			rows = append(rows, []string{t.ID, itoa(t.Desired), itoa(t.Actual), itoa(t.Pending), itoa(t.Conflicts), itoa(t.Entries)})
		}
		r.table([]string{"TABLE", "DESIRED", "ACTUAL", "PENDING", "CONFLICTS", "ENTRIES"}, rows)
	}
	r.printf("\n")

	if len(rep.RefusedHosts) > 0 { // rare enough not to list as "none"
		r.list("Refused host records", len(rep.RefusedHosts), func(i int) string {
			h := rep.RefusedHosts[i]
			return fmt.Sprintf("%s: %s", h.Instance, h.Reason)
		})
	}
	r.list("Claim conflicts", len(rep.ClaimConflicts), func(i int) string { return claimLine(rep.ClaimConflicts[i]) })
	r.list("Held deletes", len(rep.Held), func(i int) string {
		h := rep.Held[i]
		return fmt.Sprintf("%s -> %s in %s: %s", h.Route.Destination, h.Route.Target, h.Route.TableID, heldReason(h.Reason))
	})
	r.list("Conflicts", len(rep.Conflicts), func(i int) string {
		c := rep.Conflicts[i]
		return fmt.Sprintf("[%s] %s", c.Kind, c.Reason)
	})
	r.list("Refused", len(rep.Refused), func(i int) string {
		f := rep.Refused[i]
		return fmt.Sprintf("%s -> %s: %s", f.Desired.Destination, f.Desired.Target, f.Reason)
	})
	r.printf("\n")
}

// list writes "Title: none" or "Title: n" followed by one line per item.
func (r *renderer) list(title string, n int, item func(int) string) {
	if n == 0 {
		r.printf("%s: none\n", title)
		return
	}
	r.printf("%s: %d\n", title, n)
	for i := range n {
		r.printf("  %s\n", item(i))
	}
}

// api writes the call counts as one row per action, one column per
// outcome (the known outcomes first, then any other in name order).
func (r *renderer) api(calls []APICallCount) {
	var total int64
	for _, c := range calls {
		total += c.Count
	}
	r.printf("Cloud API calls (this process): %d\n", total)
	if len(calls) == 0 {
		r.printf("\n")
		return
	}
	outcomes := []string{cloud.OutcomeOK, cloud.OutcomeThrottled, cloud.OutcomeBusy, cloud.OutcomeError}
	var extra []string
	counts := map[[2]string]int64{}
	var actions []string
	for _, c := range calls {
		if !slices.Contains(outcomes, c.Outcome) && !slices.Contains(extra, c.Outcome) {
			extra = append(extra, c.Outcome)
		}
		if !slices.Contains(actions, c.Action) {
			actions = append(actions, c.Action)
		}
		counts[[2]string{c.Action, c.Outcome}] += c.Count
	}
	slices.Sort(extra)
	slices.Sort(actions)
	outcomes = append(outcomes, extra...)
	header := []string{"ACTION"}
	for _, o := range outcomes {
		header = append(header, strings.ToUpper(o))
	}
	rows := make([][]string, 0, len(actions))
	for _, a := range actions {
		row := []string{a}
		for _, o := range outcomes {
			row = append(row, fmt.Sprint(counts[[2]string{a, o}]))
		}
		rows = append(rows, row)
	}
	r.table(header, rows)
	r.printf("\n")
}

func (r *renderer) errors(errs []ErrorEntry) {
	if len(errs) == 0 {
		r.printf("Recent errors: none\n")
		return
	}
	r.printf("Recent errors: %d\n", len(errs))
	rows := make([][]string, 0, len(errs))
	for _, e := range errs {
		times := ""
		if e.Count > 1 {
			times = fmt.Sprintf(" (%d times)", e.Count)
		}
		rows = append(rows, []string{stamp(e.Time), r.ago(e.Time), orDash(e.Component), e.Message + times})
	}
	r.table([]string{"TIME", "AGE", "COMPONENT", "ERROR"}, rows)
}

func claimLine(c reconciler.ClaimConflict) string {
	return fmt.Sprintf("%s of %s refused: overlaps %s of %s, claimed earlier",
		c.Refused.Subnet, c.Refused.Instance, c.Holder.Subnet, c.Holder.Instance)
}

func heldReason(reason string) string {
	switch reason {
	case reconciler.HeldNotGone:
		return "kept, the cloud does not confirm the instance is gone"
	case reconciler.HeldMassDelete:
		return "kept by the mass-delete guard (--allow-mass-delete to override)"
	}
	return reason
}

// ago renders the age of t relative to the document's time.
func (r *renderer) ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := r.now.Sub(t)
	if d < time.Second {
		// Includes clocks of other hosts slightly ahead of this one.
		return "just now"
	}
	return age(d) + " ago"
}

// age renders a duration coarsely, two units at most: 42s, 3m5s, 4h10m, 2d3h.
func age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm%ds", int(d/time.Minute), int(d%time.Minute/time.Second))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh%dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return fmt.Sprintf("%dd%dh", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
}

// duration renders a pass's duration with a precision that suits it.
func duration(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(10 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

func prefixes(ps []netip.Prefix) string {
	if len(ps) == 0 {
		return "-"
	}
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}

func addr(a netip.Addr) string {
	if !a.IsValid() {
		return "-"
	}
	return a.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func itoa(n int) string { return fmt.Sprint(n) }
