package lab_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/examples/lab"
	"github.com/vpcroute/vpcroute/reconciler/status"
)

// convergeTimeout bounds the wait for daemons to agree on a leader and for
// a route to become Available: a few debounces, lease TTLs and simulator
// delays, far above what it takes.
const convergeTimeout = 15 * time.Second

// noDaemons stops (SIGTERM) every running daemon, so that the sync tests
// own the lab. Routes, records and rules stay, as SIGTERM keeps them.
func noDaemons(t *testing.T, l *lab.Lab) {
	t.Helper()
	for _, h := range l.Hosts {
		if err := l.StopDaemon(h, syscall.SIGTERM); err != nil {
			t.Fatalf("precondition: stop daemon: %v", err)
		}
	}
}

// startDaemons starts a daemon on every host that has none, all at once,
// and returns when each is ready.
func startDaemons(ctx context.Context, t *testing.T, l *lab.Lab) {
	t.Helper()
	errs := make(chan error, len(l.Hosts))
	n := 0
	for _, h := range l.Hosts {
		if l.DaemonRunning(h) {
			continue
		}
		n++
		go func() { errs <- l.StartDaemon(ctx, h) }()
	}
	var failed []string
	for range n {
		if err := <-errs; err != nil {
			failed = append(failed, err.Error())
		}
	}
	if len(failed) > 0 {
		t.Fatalf("start daemons:\n  %s", strings.Join(failed, "\n  "))
	}
}

// ensureDaemons is the precondition of the daemon tests: a daemon on every
// host, one leader they all agree on, and every host's route in place.
func ensureDaemons(ctx context.Context, t *testing.T, l *lab.Lab) *lab.Host {
	t.Helper()
	startDaemons(ctx, t, l)
	leader, err := l.WaitLeader(ctx, convergeTimeout)
	if err != nil {
		t.Fatalf("precondition: %v", err)
	}
	for _, h := range l.Hosts {
		if _, err := l.WaitRouted(ctx, h, convergeTimeout); err != nil {
			t.Fatalf("precondition: %v", err)
		}
	}
	return leader
}

// waitStatus polls host h's status (at most timeout) until ok accepts it,
// and fails the test with the last document's summary otherwise.
func waitStatus(ctx context.Context, t *testing.T, l *lab.Lab, h *lab.Host, timeout time.Duration, what string, ok func(status.Document) bool) status.Document {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		doc, err := l.Status(ctx, h)
		if err == nil && ok(doc) {
			return doc
		}
		if time.Now().After(deadline) {
			if err != nil {
				t.Fatalf("%s's status: %s not within %s: %v", h.Name, what, timeout, err)
			}
			t.Fatalf("%s's status: %s not within %s; registered %v, reconcile %s", h.Name, what, timeout, instances(doc), reconcileSummary(doc))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// instances lists the registered hosts of a status document.
func instances(doc status.Document) []string {
	var out []string
	for _, h := range doc.Hosts {
		out = append(out, h.Instance)
	}
	return out
}

// registeredExactly reports whether the document lists exactly the given
// hosts' instances.
func registeredExactly(hosts []*lab.Host) func(status.Document) bool {
	return func(doc status.Document) bool {
		got := instances(doc)
		if len(got) != len(hosts) {
			return false
		}
		for _, h := range hosts {
			if !strings.Contains(" "+strings.Join(got, " ")+" ", " "+h.InstanceID+" ") {
				return false
			}
		}
		return true
	}
}

// reconcileSummary is the last pass of a status document on one line.
func reconcileSummary(doc status.Document) string {
	r := doc.Reconcile
	if r == nil {
		return "none yet"
	}
	s := fmt.Sprintf("%s (trigger %s, started %s, created %d, deleted %d", r.Result, r.Trigger,
		r.Started.Format(time.TimeOnly), r.Created, r.Deleted)
	if r.Error != "" {
		s += ", error " + r.Error
	}
	for _, tb := range r.Tables {
		s += fmt.Sprintf(", %s desired %d actual %d pending %d", tb.ID, tb.Desired, tb.Actual, tb.Pending)
	}
	return s + ")"
}

// checkUnowned asserts the unowned entries are byte for byte what they
// were when the lab came up.
func checkUnowned(ctx context.Context, t *testing.T, l *lab.Lab) {
	t.Helper()
	initial, err := lab.ParseSimRoutes(l.InitialRoutes)
	if err != nil {
		t.Fatal(err)
	}
	now, err := l.SimEntries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range unownedRoutes {
		was, _ := lab.FindEntry(initial, r.Table, r.Destination)
		is, ok := lab.FindEntry(now, r.Table, r.Destination)
		if !ok {
			t.Errorf("unowned entry %s -> %s %s is gone", r.Destination, r.NextHopType, r.NextHopID)
			continue
		}
		if !bytes.Equal(was.Raw, is.Raw) {
			t.Errorf("unowned entry %s changed:\n  before %s\n  after  %s", r.Destination, was.Raw, is.Raw)
		}
	}
}

// tailFile is the end of a log file on one line, for failure messages.
func tailFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return strings.Join(lines, " | ")
}

// logMark is where a log file ends now; logSince reads what was written
// after it. Tests assert what the daemon logged between two events instead
// of how fast it was.
func logMark(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatalf("daemon log: %v", err)
	}
	return st.Size()
}

// logSince returns the part of the log at path written after mark.
func logSince(t *testing.T, path string, mark int64) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("daemon log: %v", err)
	}
	if int64(len(b)) < mark {
		t.Fatalf("daemon log %s shrank below %d bytes", path, mark)
	}
	return string(b[mark:])
}

// vswitchMAC is the VPC router's bridge address, as hosts' ARP caches hold
// it.
func vswitchMAC(t *testing.T, l *lab.Lab) string {
	t.Helper()
	out, err := exec.Command("ip", "-n", l.Router, "-o", "link", "show", "vsw").CombinedOutput()
	if err != nil {
		t.Fatalf("ip -n %s link show vsw: %v: %s", l.Router, err, out)
	}
	f := strings.Fields(string(out))
	for i, w := range f {
		if w == "link/ether" && i+1 < len(f) {
			return f[i+1]
		}
	}
	t.Fatalf("no link/ether address in %q", out)
	return ""
}
