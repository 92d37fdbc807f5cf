package lab_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/vpcroute/vpcroute/examples/lab"
	"github.com/vpcroute/vpcroute/internal/testsupport"
)

// needRoot skips a test that needs network namespaces when not root, and
// fails it in CI (CI=true), where every test must run.
func needRoot(t *testing.T) {
	t.Helper()
	testsupport.RequireRoot(t, "creates network namespaces, runs dockerd and iptables")
}

// racesBlamed counts, per lab, the race reports of its processes that a
// test has already failed for: the shared lab outlives every test.
var racesBlamed struct {
	sync.Mutex
	n map[*lab.Lab]int
}

// failOnRaces fails t, when it ends, if a vpcroute or vpcroute-sim process
// of l reported a data race during t (the binaries are built with -race
// when the tests are).
func failOnRaces(t *testing.T, l *lab.Lab) {
	t.Cleanup(func() {
		reports := l.RaceReports()
		total := 0
		for _, r := range reports {
			total += r.Count
		}
		racesBlamed.Lock()
		if racesBlamed.n == nil {
			racesBlamed.n = map[*lab.Lab]int{}
		}
		seen := racesBlamed.n[l]
		racesBlamed.n[l] = total
		racesBlamed.Unlock()
		if total > seen {
			var b strings.Builder
			for _, r := range reports {
				b.WriteString("\n" + r.String())
			}
			t.Errorf("%d new data race report(s) from the lab's processes:%s", total-seen, b.String())
		}
	})
}

// testLogger logs the lab's steps to stderr under -v, nothing otherwise.
func testLogger() *zap.Logger {
	if !testing.Verbose() {
		return zap.NewNop()
	}
	cfg := zap.NewDevelopmentConfig()
	cfg.Level = zap.NewAtomicLevelAt(zap.InfoLevel)
	lg, err := cfg.Build()
	if err != nil {
		return zap.NewNop()
	}
	return lg
}

// expectMatrix measures the matrix and fails the test on every cell that
// differs from expect.
func expectMatrix(ctx context.Context, t *testing.T, l *lab.Lab, stage string, expect func(from, to lab.Endpoint) bool) *lab.Matrix {
	t.Helper()
	start := time.Now()
	m, err := l.Matrix(ctx)
	t.Logf("%s: matrix measured in %s", stage, time.Since(start).Round(time.Millisecond))
	if err != nil {
		t.Fatalf("%s: %v", stage, err)
	}
	if bad := m.Mismatches(expect); len(bad) > 0 {
		t.Errorf("%s: reachability differs from expected:\n  %s\n%s", stage, strings.Join(bad, "\n  "), m)
	} else {
		t.Logf("%s:\n%s", stage, m)
	}
	return m
}

// sameHostOnly is the matrix of a lab without working cross-host routing.
func sameHostOnly(from, to lab.Endpoint) bool { return from.Host == to.Host }

// everything is the full matrix.
func everything(lab.Endpoint, lab.Endpoint) bool { return true }

// ensureSynced runs vpcroute sync on every host and requires the full
// matrix: the precondition of every test that changes something.
func ensureSynced(ctx context.Context, t *testing.T, l *lab.Lab) {
	t.Helper()
	noDaemons(t, l)
	if res, err := l.SyncAll(ctx); err != nil {
		t.Fatalf("precondition: %v\n%s", err, syncOutputs(res))
	}
	m, err := l.Matrix(ctx)
	if err != nil {
		t.Fatalf("precondition: %v", err)
	}
	if !m.Full() {
		t.Fatalf("precondition: after sync on every host the matrix is not full:\n%s", m)
	}
}

// resetToUnsynced removes vpcroute's routes and rules from every host when
// any are present, and checks the lab is back to dockerd-only.
func resetToUnsynced(ctx context.Context, t *testing.T, l *lab.Lab) {
	t.Helper()
	noDaemons(t, l)
	if pristine(ctx, t, l) == "" {
		return
	}
	for _, h := range l.Hosts {
		if out, err := l.Vpcroute(ctx, h, "sync", "--remove"); err != nil {
			t.Fatalf("reset: %v\n%s", err, out)
		}
		if out, err := l.Vpcroute(ctx, h, "cleanup"); err != nil {
			t.Fatalf("reset: %v\n%s", err, out)
		}
	}
	if why := pristine(ctx, t, l); why != "" {
		t.Fatalf("reset: after sync --remove and cleanup on every host the lab is not back to its start: %s", why)
	}
}

// pristine says why the lab differs from its start ("" when it does not):
// a route entry for a host subnet, or iptables differing from what dockerd
// alone set up.
func pristine(ctx context.Context, t *testing.T, l *lab.Lab) string {
	t.Helper()
	entries, err := l.SimEntries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range l.Hosts {
		if e, ok := lab.FindEntry(entries, lab.RouteTableID, h.Subnet.String()); ok {
			return fmt.Sprintf("entry %s -> %s %s is in the table", e.Destination, e.NextHopType, e.NextHopID)
		}
		ipt, err := l.IptablesSave(ctx, h)
		if err != nil {
			t.Fatal(err)
		}
		if ipt != h.BaselineIptables() {
			return fmt.Sprintf("iptables on %s differ from dockerd's own:\n%s", h.Name, orderDiff(h.BaselineIptables(), ipt))
		}
	}
	return ""
}

func syncOutputs(res []lab.SyncResult) string {
	var b strings.Builder
	for _, r := range res {
		fmt.Fprintf(&b, "--- %s (%s, err=%v)\n%s\n", r.Host.Name, r.Duration.Round(time.Millisecond), r.Err, r.Output)
	}
	return b.String()
}

// requireEntries checks the table holds, for every host, exactly one
// Available entry "subnet -> Instance host's instance", and the router
// namespace the matching kernel route.
func requireEntries(ctx context.Context, t *testing.T, l *lab.Lab) {
	t.Helper()
	entries, err := l.SimEntries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kernel, err := l.RouterRoutes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range l.Hosts {
		n := 0
		for _, e := range entries {
			if e.Table != lab.RouteTableID || e.Destination != h.Subnet.String() {
				continue
			}
			n++
			if e.NextHopType != "Instance" || e.NextHopID != h.InstanceID || e.Status != "Available" {
				t.Errorf("entry for %s: %s -> %s %s (%s), want -> Instance %s (Available)", h.Name, e.Destination, e.NextHopType, e.NextHopID, e.Status, h.InstanceID)
			}
			if !strings.Contains(e.Name+" "+e.Description, "vpcroute") {
				t.Errorf("entry for %s carries no vpcroute ownership mark: name %q description %q", h.Name, e.Name, e.Description)
			}
		}
		if n != 1 {
			t.Errorf("%d entries for %s's subnet %s, want exactly 1", n, h.Name, h.Subnet)
		}
		if want := fmt.Sprintf("%s via %s ", h.Subnet, h.IP); !strings.Contains(kernel+"\n", want) {
			t.Errorf("router namespace has no kernel route %q; its table:\n%s", strings.TrimSpace(want), kernel)
		}
	}
}

// orderDiff is DiffLines, saying so when only the order differs.
func orderDiff(a, b string) string {
	if a == b {
		return "(identical)"
	}
	if d := lab.DiffLines(a, b); d != "" {
		return d
	}
	return "(same lines, different order)\n" + b
}

// waitKernelRoute waits (10 s at most) until the router namespace has, or
// no longer has, the kernel route for h's subnet: the simulator's data
// plane follows the table asynchronously.
func waitKernelRoute(ctx context.Context, t *testing.T, l *lab.Lab, h *lab.Host, present bool) {
	t.Helper()
	want := fmt.Sprintf("%s via %s ", h.Subnet, h.IP)
	deadline := time.Now().Add(10 * time.Second)
	for {
		kernel, err := l.RouterRoutes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(kernel+"\n", want) == present {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("router kernel route %q present=%v after 10s, want present=%v; table:\n%s", strings.TrimSpace(want), !present, present, kernel)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// writes reads the total of write calls from /sim/v1/stats.
func writes(t *testing.T, stats []byte) int {
	t.Helper()
	var s struct {
		Writes *int `json:"writes"`
	}
	if err := json.Unmarshal(stats, &s); err != nil || s.Writes == nil {
		t.Fatalf("stats %s: no \"writes\" count (%v)", stats, err)
	}
	return *s.Writes
}
