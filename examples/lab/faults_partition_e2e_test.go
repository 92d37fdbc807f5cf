package lab_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/examples/lab"
	"github.com/vpcroute/vpcroute/reconciler/status"
)

// writesRefused makes the simulator answer every route create with 503:
// a leader with a route to create keeps trying, so that it would write at
// any moment it still believes it leads.
const writesRefused = `[{"action":"CreateRouteEntry","code":"ServiceUnavailable"},{"action":"CreateRouteEntries","code":"ServiceUnavailable"}]`

// TestLeaderCutOffFromEtcd: the leader alone loses etcd (a DROP of etcd's
// port in its own namespace) while it has a route to create that the
// cloud keeps refusing. It must stop writing once its lease's margin
// passes, say so in /status before another host's first write, and a
// second leader takes over: in the simulator's call log no write of the
// old leader follows the new one's first. Then the DROP goes: the old
// leader rejoins as a follower, the leader does not change again and
// nothing is written. Nothing owned is deleted, nothing unowned touched.
func TestLeaderCutOffFromEtcd(t *testing.T) {
	l := sharedLab(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	old := ensureDaemons(ctx, t, l)
	var victim *lab.Host // its route is deleted behind vpcroute's back
	for _, h := range l.Hosts {
		if h != old {
			victim = h
			break
		}
	}
	simMark, err := l.SimLogMark()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		if err := l.HealEtcdCut(ctx, old); err != nil {
			t.Errorf("after the test: %v", err)
		}
		if err := l.SimSetFaults(ctx, "[]"); err != nil {
			t.Errorf("after the test: %v", err)
		}
	})
	if err := l.SimSetFaults(ctx, writesRefused); err != nil {
		t.Fatal(err)
	}
	if err := l.SimDeleteRoute(ctx, l.RouteTableID(), victim.Subnet.String()); err != nil {
		t.Fatal(err)
	}
	waitCalls(t, l, simMark, 30*time.Second, old.Name+" trying to create "+victim.Name+"'s route", func(calls []lab.SimCall) bool {
		return firstWrite(calls, func(h string) bool { return h == old.IP.String() }) >= 0
	})

	logMarks := map[*lab.Host]int64{}
	for _, h := range l.Hosts {
		logMarks[h] = logMark(t, h.DaemonLog())
	}
	cutMark, err := l.SimLogMark()
	if err != nil {
		t.Fatal(err)
	}
	if err := l.CutFromEtcd(ctx, old); err != nil {
		t.Fatal(err)
	}
	cut := time.Now()
	notOld := func(ip string) bool { return ip != old.IP.String() }

	// No other host writes while the old leader's /status still says it
	// leads: each status read is followed by a read of the call log, so a
	// write missing from the log was not sent before that status either.
	// (A status read of a daemon cut off from etcd takes up to a second;
	// the order of the term's end and the new leader's first write is
	// checked on the logs below.)
	var stopped time.Duration
	for {
		doc, err := l.Status(ctx, old)
		calls, cerr := l.SimCallsSince(simMark)
		if cerr != nil {
			t.Fatal(cerr)
		}
		if err == nil && !doc.Leader.IsSelf {
			stopped = time.Since(cut)
			break
		}
		if other := firstWrite(calls, notOld); other >= 0 {
			t.Fatalf("%s wrote (%s) while %s, cut off from etcd, still says it leads", calls[other].From, calls[other].Action, old.Name)
		}
		if time.Since(cut) > 30*time.Second {
			t.Fatalf("%s still leads 30s after its cut from etcd (lease TTL %s); status error %v", old.Name, l.DaemonConfig().LeaseTTL, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var others []*lab.Host
	for _, h := range l.Hosts {
		if h != old {
			others = append(others, h)
		}
	}
	next := waitLeaderAmong(ctx, t, l, others, 30*time.Second)
	elected := time.Since(cut)
	waitCalls(t, l, simMark, 30*time.Second, "the new leader "+next.Name+" trying to create the route", func(calls []lab.SimCall) bool {
		return firstWrite(calls, func(h string) bool { return h == next.IP.String() }) >= 0
	})
	if err := l.SimSetFaults(ctx, "[]"); err != nil {
		t.Fatal(err)
	}
	accepted := time.Now()
	if _, err := l.WaitRouted(ctx, victim, convergeTimeout); err != nil {
		t.Fatal(err)
	}
	routed := time.Since(accepted)

	calls, err := l.SimCallsSince(simMark)
	if err != nil {
		t.Fatal(err)
	}
	afterCut, err := l.SimCallsSince(cutMark)
	if err != nil {
		t.Fatal(err)
	}
	firstNew := firstWrite(calls, notOld)
	lastOld, oldAfterCut := -1, 0
	for i, c := range calls {
		if c.Write() && c.From == old.IP {
			lastOld = i
		}
		if strings.HasPrefix(c.Action, "Delete") {
			t.Errorf("%s sent %s (%s)", c.From, c.Action, c.Outcome)
		}
	}
	for _, c := range afterCut {
		if c.Write() && c.From == old.IP {
			oldAfterCut++
		}
	}
	if firstNew < 0 || lastOld > firstNew {
		t.Errorf("write order in the simulator's log: the old leader %s's last write is call %d, another host's first write call %d", old.Name, lastOld, firstNew)
	}
	// The daemon logs "lost leadership" once it no longer says it leads
	// (its term ended and its loop returned): that precedes the new
	// leader's first write, on the one clock of the machine, to the
	// millisecond both logs give.
	oldLog := logSince(t, old.DaemonLog(), logMarks[old])
	ended, ok := daemonLogTime(oldLog, "lost leadership; campaigning again", calls[max(firstNew, 0)].At)
	switch {
	case !ok:
		t.Errorf("%s did not log the end of its leadership after its cut from etcd:\n%s", old.Name, oldLog)
	case firstNew >= 0 && ended.After(calls[firstNew].At):
		t.Errorf("%s's leadership ended at %s, after %s's first write at %s:\n%s", old.Name, ended.Format(time.StampMilli),
			calls[firstNew].From, calls[firstNew].At.Local().Format(time.StampMilli), oldLog)
	}
	t.Logf("leader %s cut off from etcd (lease TTL %s): its term ended %s after the cut (/status seen not leading %s after the cut), %d write attempts of its own after the cut; %s's first write %s after the end, %s seen leading %s after the cut; route Available %s after the cloud accepted writes again",
		old.Name, l.DaemonConfig().LeaseTTL, ended.Sub(cut).Round(time.Millisecond), stopped.Round(time.Millisecond), oldAfterCut,
		calls[max(firstNew, 0)].From, calls[max(firstNew, 0)].At.Sub(ended).Round(time.Millisecond), next.Name, elected.Round(time.Millisecond), routed.Round(time.Millisecond))

	// The cut heals: the old leader follows the new one, and nothing flaps.
	for _, h := range l.Hosts {
		logMarks[h] = logMark(t, h.DaemonLog())
	}
	writesHealed := simWrites(ctx, t, l)
	if err := l.HealEtcdCut(ctx, old); err != nil {
		t.Fatal(err)
	}
	healed := time.Now()
	if got, err := l.WaitLeader(ctx, 45*time.Second); err != nil {
		t.Fatal(err)
	} else if got != next {
		t.Errorf("after the cut healed %s leads, want %s still", got.Name, next.Name)
	}
	rejoined := time.Since(healed)
	waitStatus(ctx, t, l, old, convergeTimeout, "registered again", func(d status.Document) bool { return d.Host.Registered })
	// A resync more: the leader stays, nothing is written.
	time.Sleep(l.DaemonConfig().ResyncInterval + time.Second)
	if got, err := l.Leader(ctx); err != nil || got != next {
		t.Errorf("a resync after the heal: leader %v (err %v), want %s", got, err, next.Name)
	}
	for _, h := range l.Hosts {
		if log := logSince(t, h.DaemonLog(), logMarks[h]); strings.Contains(log, "elected leader") || strings.Contains(log, "leadership lost") {
			t.Errorf("%s's leadership changed after the cut healed:\n%s", h.Name, log)
		}
	}
	if w := simWrites(ctx, t, l) - writesHealed; w != 0 {
		t.Errorf("%d route writes after the cut healed, want 0", w)
	}
	t.Logf("cut healed: every host names %s the leader %s later; no write, no leader change over a resync", next.Name, rejoined.Round(time.Millisecond))
	requireEntries(ctx, t, l)
	checkUnowned(ctx, t, l)
	expectMatrix(ctx, t, l, "after the cut healed", everything)
}

// daemonLogTime is when the first line of a daemon's log containing what
// was written: the console log gives the local time of day to the
// millisecond, on the day of near.
func daemonLogTime(log, what string, near time.Time) (time.Time, bool) {
	near = near.Local()
	for _, line := range strings.Split(log, "\n") {
		if !strings.Contains(line, what) {
			continue
		}
		stamp, _, _ := strings.Cut(line, "\t")
		tod, err := time.Parse("15:04:05.000", stamp)
		if err != nil {
			continue
		}
		at := time.Date(near.Year(), near.Month(), near.Day(), tod.Hour(), tod.Minute(), tod.Second(), tod.Nanosecond(), time.Local)
		switch d := at.Sub(near); {
		case d > 12*time.Hour:
			at = at.AddDate(0, 0, -1)
		case d < -12*time.Hour:
			at = at.AddDate(0, 0, 1)
		}
		return at, true
	}
	return time.Time{}, false
}

// firstWrite is the index of the first write call sent from an address
// from accepts, -1 when there is none.
func firstWrite(calls []lab.SimCall, from func(ip string) bool) int {
	for i, c := range calls {
		if c.Write() && from(c.From.String()) {
			return i
		}
	}
	return -1
}

// waitCalls polls the simulator's calls since mark until ok accepts them.
func waitCalls(t *testing.T, l *lab.Lab, mark int64, timeout time.Duration, what string, ok func([]lab.SimCall) bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		calls, err := l.SimCallsSince(mark)
		if err != nil {
			t.Fatal(err)
		}
		if ok(calls) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s (%d calls logged since)", what, timeout, len(calls))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitLeaderAmong waits until the given hosts agree on one of themselves
// as the leader, and exactly that one says it leads.
func waitLeaderAmong(ctx context.Context, t *testing.T, l *lab.Lab, hosts []*lab.Host, timeout time.Duration) *lab.Host {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		var leader *lab.Host
		if leader, last = leaderAmong(ctx, l, hosts); last == nil {
			return leader
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("no leader among %d hosts within %s: %v", len(hosts), timeout, last)
	return nil
}

func leaderAmong(ctx context.Context, l *lab.Lab, hosts []*lab.Host) (*lab.Host, error) {
	var leader *lab.Host
	for _, h := range hosts {
		doc, err := l.Status(ctx, h)
		if err != nil {
			return nil, err
		}
		if !doc.Leader.Known {
			return nil, fmt.Errorf("%s knows no leader", h.Name)
		}
		var named *lab.Host
		for _, c := range hosts {
			if c.InstanceID == doc.Leader.Instance {
				named = c
			}
		}
		switch {
		case named == nil:
			return nil, fmt.Errorf("%s names %s the leader", h.Name, doc.Leader.Instance)
		case leader != nil && named != leader:
			return nil, fmt.Errorf("%s names %s the leader, another host %s", h.Name, named.Name, leader.Name)
		case doc.Leader.IsSelf != (named == h):
			return nil, fmt.Errorf("%s names %s the leader but says isSelf %v", h.Name, named.Name, doc.Leader.IsSelf)
		}
		leader = named
	}
	return leader, nil
}
