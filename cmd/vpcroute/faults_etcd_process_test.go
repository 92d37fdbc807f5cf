package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// etcdKillPending is how long the simulator keeps each new route Pending
// in TestFaultEtcdKilledMidConverge: longer than the lease's TTL, so that
// the leader is in the middle of its converge (waiting to send its next
// batch) when it loses the lease.
const etcdKillPending = 5 * time.Second

// TestFaultEtcdKilledMidConverge: etcd is SIGKILLed while the leader
// converges 60 routes (batches of at most 50, each Pending 5 s before the
// next), stays down past a Pending delay, and is restarted on its data.
// The leader stops writing once its lease's margin passes (no daemon
// leads, no write while etcd is down); after etcd is back a leader creates
// exactly the missing routes: each destination once, every one Available,
// no delete, no further write once converged.
func TestFaultEtcdKilledMidConverge(t *testing.T) {
	c := startManyRoutes(t, etcdKillPending)
	s, etcd, ds, want, unownedBefore, leader := c.s, c.etcd, c.ds, c.want, c.unownedBefore, c.leader

	etcd.Stop() // SIGKILL
	killed := time.Now()
	marks := map[string]int{}
	for _, d := range ds {
		marks[d.id] = len(d.out.String())
	}
	atKill := s.owned(t)
	if len(atKill) == 0 || len(atKill) >= len(want) {
		t.Fatalf("precondition: etcd's kill missed the converge: %d of %d routes in the cloud", len(atKill), len(want))
	}
	// The leader stops once its lease can no longer be shown alive.
	lost := eventually(t, liveness, "no daemon leading with etcd down", func() error {
		for _, d := range ds {
			doc, err := d.status()
			if err != nil {
				return err
			}
			if doc.Leader.IsSelf {
				return fmt.Errorf("%s still leads", d.id)
			}
		}
		return nil
	})
	atLoss := s.stats(t)
	// Down past a Pending delay: a leader that went on would send its
	// next batch now.
	time.Sleep(time.Until(killed.Add(etcdKillPending + testLeaseTTL)))
	for _, d := range ds {
		if !d.alive() {
			t.Fatalf("%s exited while etcd was down", d.id)
		}
		if code, body := d.get("/healthz"); code != 200 {
			t.Errorf("%s /healthz while etcd is down: %d %s", d.id, code, body)
		}
	}
	down := s.stats(t)
	if w := down.Writes - atLoss.Writes; w != 0 {
		t.Errorf("%d route writes with etcd down after the leadership ended, want 0: %v", w, down.Actions)
	}
	lostLogged, ok := loggedAt(byID(ds, leader).out.String()[marks[leader]:], "leadership lost", killed)
	if !ok {
		t.Errorf("leader %s did not log the loss of its leadership after etcd's kill", leader)
	}

	etcd.Restart()
	back := time.Now()
	took := s.wantOwned(t, 90*time.Second, want...)
	var next string
	eventually(t, liveness, "leader after etcd is back", func() (err error) { next, err = leaderOf(ds); return err })
	time.Sleep(4 * time.Second) // a resync more: nothing else is written
	after := s.stats(t)
	t.Logf("etcd SIGKILLed mid-converge with %d of %d routes in the cloud; leader %s logged its leadership lost %s after the kill (lease TTL %s), /status showed no daemon leading %s after the kill; %d writes while down",
		len(atKill), len(want), leader, lostLogged.Round(time.Millisecond), testLeaseTTL, lost.Round(time.Millisecond), down.Writes-atLoss.Writes)
	t.Logf("etcd back after %s: all %d Available %s later (Pending %s); leader %s before, %s after; %d create calls (%d ok), %d deletions since the kill",
		back.Sub(killed).Round(time.Millisecond), len(want), took.Round(time.Millisecond), etcdKillPending, leader, next,
		after.Calls("CreateRouteEntry")+after.Calls("CreateRouteEntries")-atLoss.Calls("CreateRouteEntry")-atLoss.Calls("CreateRouteEntries"),
		createdOK(after)-createdOK(atLoss), deletions(after))
	if n := deletions(after); n != 0 {
		t.Errorf("%d delete calls, want 0", n)
	}
	if n := createdOK(after) - createdOK(atLoss); n < 1 || n > 2 {
		t.Errorf("%d successful create calls after etcd came back, want one or two batches for the %d missing routes: %v",
			n, len(want)-len(atKill), after.Actions)
	}
	// The plan after etcd's return saw the Pending entries: no create call
	// names more than the routes missing at the kill.
	largest := 0
	for _, d := range ds {
		largest = max(largest, largestCreate(t, d.out.String()[marks[d.id]:]))
	}
	if largest != len(want)-len(atKill) {
		t.Errorf("the largest create call after etcd's kill named %d routes, want the %d missing", largest, len(want)-len(atKill))
	}
	s.checkNoDuplicates(t)
	s.checkUnowned(t, unownedBefore)
}

// loggedAt finds the first line of a daemon's log containing what and
// returns when it was logged, from ref: the console log starts each line
// with the time of day to the millisecond.
func loggedAt(log, what string, ref time.Time) (time.Duration, bool) {
	for _, line := range strings.Split(log, "\n") {
		if !strings.Contains(line, what) {
			continue
		}
		stamp, _, _ := strings.Cut(line, "\t")
		tod, err := time.ParseInLocation("15:04:05.000", stamp, ref.Location())
		if err != nil {
			continue
		}
		at := time.Date(ref.Year(), ref.Month(), ref.Day(), tod.Hour(), tod.Minute(), tod.Second(), tod.Nanosecond(), ref.Location())
		d := at.Sub(ref)
		if d < -12*time.Hour { // past midnight since ref
			d += 24 * time.Hour
		}
		return d, true
	}
	return 0, false
}
