package lab_test

import (
	"context"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/examples/lab"
	"github.com/vpcroute/vpcroute/reconciler"
	"github.com/vpcroute/vpcroute/reconciler/status"
)

// TestDaemonsMakeEveryPairReachable: from a lab with no route and only
// Docker's own rules, `vpcroute daemon` on every host (no sync anywhere)
// elects exactly one leader that every host names, gets every host's route
// Available, and every pair reaches every other both ways with the
// sender container's own source address. The leader's status shows every
// host registered and a clean last pass.
func TestDaemonsMakeEveryPairReachable(t *testing.T) {
	l := sharedLab(t)
	ctx := testCtx(t)
	resetToUnsynced(ctx, t, l)

	a, b := l.Hosts[0], l.Hosts[1]
	watch, err := l.WatchPing(ctx, a, b.ContainerIP(), 60*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := watch.Stop(ctx); err != nil {
			t.Error(err)
		}
	}()
	start := time.Now()
	startDaemons(ctx, t, l)
	t.Logf("daemons on %d hosts ready %s after start", len(l.Hosts), time.Since(start).Round(time.Millisecond))
	leader, err := l.WaitLeader(ctx, convergeTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("leader %s (%s) agreed on by every host %s after start", leader.InstanceID, leader.Name, time.Since(start).Round(time.Millisecond))
	for _, h := range l.Hosts {
		at, err := l.WaitRouted(ctx, h, convergeTimeout)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("route of %s Available with its kernel route %s after start", h.Name, at.Sub(start).Round(time.Millisecond))
	}
	select {
	case first := <-watch.First:
		t.Logf("first cross-host ping (container0 -> container1) %s after the daemons started", first.Sub(start).Round(time.Millisecond))
	case <-time.After(10 * time.Second):
		t.Errorf("no reply to the continuous ping container0 -> container1 within 10s after every route was Available")
	}

	expectMatrix(ctx, t, l, "with daemons", everything)
	checkSources(ctx, t, l)
	requireEntries(ctx, t, l)
	checkUnowned(ctx, t, l)

	doc := waitStatus(ctx, t, l, leader, convergeTimeout, "every host registered and a clean pass", func(d status.Document) bool {
		return registeredExactly(l.Hosts)(d) && d.Reconcile != nil && d.Reconcile.Result == reconciler.ResultOK
	})
	if !doc.Leader.IsSelf || doc.Mode != status.ModeCluster {
		t.Errorf("leader's status: mode %q, leader %+v; want cluster mode and isSelf", doc.Mode, doc.Leader)
	}
	for _, tb := range doc.Reconcile.Tables {
		if tb.Desired != len(l.Hosts) || tb.Actual != len(l.Hosts) || tb.Pending != 0 {
			t.Errorf("leader's status, table %s: desired %d actual %d pending %d, want %d, %d, 0", tb.ID, tb.Desired, tb.Actual, tb.Pending, len(l.Hosts), len(l.Hosts))
		}
	}
}

// TestDaemonRestoresAfterDockerRestart: dockerd restarts on one host and
// puts its MASQUERADE back on top of nat POSTROUTING. Without any sync,
// the daemon (its Docker event watch sees Docker come back) puts vpcroute's
// NAT exemption back first; after its second apply the rule set is the one
// from before the restart, with no duplicate, and the receivers see
// container source addresses again. The test asserts these events and
// their order, not how many seconds they took on this machine.
func TestDaemonRestoresAfterDockerRestart(t *testing.T) {
	l := sharedLab(t)
	ctx := testCtx(t)
	ensureDaemons(ctx, t, l)
	h := l.Hosts[len(l.Hosts)-1] // not host0: TestCleanup compares host0 with its start

	before, err := l.IptablesSave(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	if post := lab.ChainRules(before, "nat", "POSTROUTING"); len(post) == 0 || !strings.Contains(post[0], "VPCROUTE-POSTROUTING") {
		t.Fatalf("precondition: first nat POSTROUTING rule on %s is %q, want vpcroute's jump", h.Name, post)
	}
	mark := logMark(t, h.DaemonLog())
	began := time.Now()
	if err := l.RestartDocker(ctx, h); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	var now string
	for {
		if now, err = l.IptablesSave(ctx, h); err != nil {
			t.Fatal(err)
		}
		post := lab.ChainRules(now, "nat", "POSTROUTING")
		if len(post) > 0 && strings.Contains(post[0], "VPCROUTE-POSTROUTING") {
			break
		}
		if time.Since(back) > convergeTimeout {
			t.Fatalf("%s after dockerd on %s was back, the first nat POSTROUTING rule is %q, want the jump to VPCROUTE-POSTROUTING; daemon log: %s",
				convergeTimeout, h.Name, post, tailFile(h.DaemonLog()))
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("NAT exemption first in POSTROUTING again %s after dockerd and its container were back", time.Since(back).Round(time.Millisecond))
	// The daemon, not luck, put it back: Docker's restart puts its own
	// MASQUERADE first (TestDockerRestartThenSyncRestores logs it), and the
	// daemon reports, once its apply has finished, a host-config change
	// made after the restart began.
	doc := waitStatus(ctx, t, l, h, convergeTimeout, "host config ok and changed after the restart began", func(d status.Document) bool {
		hc := d.Host.HostConfig
		return hc.State == status.HostConfigOK && hc.LastChange.After(began)
	})
	// The Docker event watch saw Docker come back, and that (not only the
	// periodic host check) prompted the apply.
	if log := logSince(t, h.DaemonLog(), mark); !strings.Contains(log, "docker is back; re-applying host config") {
		t.Errorf("%s's daemon did not log seeing Docker come back after the restart:\n%s", h.Name, log)
	}
	// The second apply (the agent re-applies once more when Docker's rules
	// have settled, 2s after the first) must not add anything: wait for an
	// apply that began after it was due.
	second := doc.Host.HostConfig.LastChange.Add(2 * time.Second)
	waitStatus(ctx, t, l, h, convergeTimeout, "an apply after the second one was due", func(d status.Document) bool {
		return d.Host.HostConfig.LastApplied.After(second)
	})
	if now, err = l.IptablesSave(ctx, h); err != nil {
		t.Fatal(err)
	}
	if dup := lab.DuplicateRules(now); len(dup) > 0 {
		t.Errorf("duplicated iptables rules on %s:\n  %s", h.Name, strings.Join(dup, "\n  "))
	}
	if lab.SortedRules(now) != lab.SortedRules(before) {
		t.Errorf("after the dockerd restart, iptables on %s are not the rules from before it:\n%s", h.Name, orderDiff(before, now))
	}
	checkSources(ctx, t, l)
	expectMatrix(ctx, t, l, "after dockerd restart, daemons only", everything)
}

// TestDaemonRestoresFlushedForwardChain: someone flushes VPCROUTE-FORWARD
// on a host. Forwarded traffic into its containers would be dropped by
// Docker's policy; the daemon's periodic host check (2 s in the e2e lab)
// puts every rule back, in order, with no Docker event to prompt it: the
// daemon logs the re-apply and no Docker restart in between.
func TestDaemonRestoresFlushedForwardChain(t *testing.T) {
	l := sharedLab(t)
	ctx := testCtx(t)
	ensureDaemons(ctx, t, l)
	h := l.Hosts[1]

	before, err := l.IptablesSave(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	want := lab.ChainRules(before, "filter", "VPCROUTE-FORWARD")
	if len(want) == 0 {
		t.Fatalf("precondition: VPCROUTE-FORWARD on %s has no rules:\n%s", h.Name, before)
	}
	mark := logMark(t, h.DaemonLog())
	if _, err := l.HostExec(ctx, h, "iptables", "-F", "VPCROUTE-FORWARD"); err != nil {
		t.Fatal(err)
	}
	flushed := time.Now()
	now, err := l.IptablesSave(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	if got := lab.ChainRules(now, "filter", "VPCROUTE-FORWARD"); len(got) != 0 {
		t.Fatalf("after iptables -F, VPCROUTE-FORWARD on %s still has %q", h.Name, got)
	}
	for {
		if now, err = l.IptablesSave(ctx, h); err != nil {
			t.Fatal(err)
		}
		if slices.Equal(lab.ChainRules(now, "filter", "VPCROUTE-FORWARD"), want) {
			break
		}
		if time.Since(flushed) > convergeTimeout {
			t.Fatalf("VPCROUTE-FORWARD on %s not restored within %s (host check every %s): %q, want %q",
				h.Name, convergeTimeout, e2eDaemon.HostCheckInterval, lab.ChainRules(now, "filter", "VPCROUTE-FORWARD"), want)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("VPCROUTE-FORWARD on %s restored %s after the flush", h.Name, time.Since(flushed).Round(time.Millisecond))
	// The agent logs the re-apply once its last rule is in: the rules can
	// be seen back a moment before the line is written.
	log := logSince(t, h.DaemonLog(), mark)
	for deadline := time.Now().Add(convergeTimeout); !strings.Contains(log, "host config re-applied") && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		log = logSince(t, h.DaemonLog(), mark)
	}
	if !strings.Contains(log, "host config re-applied") || strings.Contains(log, "docker is back") {
		t.Errorf("%s's daemon log after the flush, want a re-apply by the host check and no Docker restart:\n%s", h.Name, log)
	}
	if now != before {
		t.Errorf("iptables on %s after the restore differ from before the flush:\n%s", h.Name, orderDiff(before, now))
	}
	ok, err := l.Ping(ctx, lab.ContainerEndpoint(l.Hosts[0]), h.ContainerIP())
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		t.Errorf("container0 cannot reach %s's container after the restore", h.Name)
	}
}

// TestDaemonsHostJoinsAndLeaves: a new host (namespace, dockerd, container,
// a new instance in the cloud) joins the running cluster and starts its
// daemon: its route becomes Available and its container reachable within
// seconds, with no action on any other host. It then leaves the documented
// way (daemon stopped, `vpcroute sync --remove` with the registry): its
// route goes, the leader forgets it, and every remaining pair still works.
func TestDaemonsHostJoinsAndLeaves(t *testing.T) {
	l := sharedLab(t)
	ctx := testCtx(t)
	leader := ensureDaemons(ctx, t, l)
	old := slices.Clone(l.Hosts)

	n, err := l.AddHost(ctx)
	if err != nil {
		t.Fatal(err)
	}
	removed := false
	t.Cleanup(func() {
		if !removed {
			if err := l.RemoveHost(context.Background(), n); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		}
	})
	watch, err := l.WatchPing(ctx, old[0], n.ContainerIP(), 60*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := watch.Stop(ctx); err != nil {
			t.Error(err)
		}
	}()
	start := time.Now()
	if err := l.StartDaemon(ctx, n); err != nil {
		t.Fatal(err)
	}
	routed, err := l.WaitRouted(ctx, n, convergeTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("joined %s: daemon start to route Available %s", n.Name, routed.Sub(start).Round(time.Millisecond))
	select {
	case first := <-watch.First:
		t.Logf("joined %s: daemon start to first ping from container0 %s", n.Name, first.Sub(start).Round(time.Millisecond))
	case <-time.After(10 * time.Second):
		t.Errorf("no reply from %s's container within 10s after its route was Available", n.Name)
	}
	expectMatrix(ctx, t, l, "after "+n.Name+" joined", everything)
	waitStatus(ctx, t, l, leader, convergeTimeout, "the joined host registered", registeredExactly(l.Hosts))

	macBefore := vswitchMAC(t, l)
	if err := l.RemoveHost(ctx, n); err != nil {
		t.Fatal(err)
	}
	removed = true
	if mac := vswitchMAC(t, l); mac != macBefore {
		t.Errorf("the vswitch's MAC changed from %s to %s when %s's port went: every host's ARP entry for the router is now stale", macBefore, mac, n.Name)
	}
	if _, err := l.WaitRouteGone(ctx, n, convergeTimeout); err != nil {
		t.Fatal(err)
	}
	waitStatus(ctx, t, l, leader, convergeTimeout, n.Name+" no longer registered", registeredExactly(old))
	expectMatrix(ctx, t, l, "after "+n.Name+" left", everything)
	requireEntries(ctx, t, l)
	checkUnowned(ctx, t, l)
}

// TestDaemonKeepsSilentHostRouteUntilCloudConfirmsGone: a joined host's
// daemon is killed. Its route stays, and keeps working, through a leader
// pass that started more than --silent-after after the host's last
// heartbeat: a silent agent is no reason to delete. Only once the cloud
// releases the instance does the leader delete the route and forget the
// host.
func TestDaemonKeepsSilentHostRouteUntilCloudConfirmsGone(t *testing.T) {
	l := sharedLab(t)
	ctx := testCtx(t)
	leader := ensureDaemons(ctx, t, l)
	old := slices.Clone(l.Hosts)

	n, err := l.AddHost(ctx)
	if err != nil {
		t.Fatal(err)
	}
	gone := false
	t.Cleanup(func() {
		if !gone {
			if err := l.RemoveHost(context.Background(), n); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		}
	})
	if err := l.StartDaemon(ctx, n); err != nil {
		t.Fatal(err)
	}
	if _, err := l.WaitRouted(ctx, n, convergeTimeout); err != nil {
		t.Fatal(err)
	}
	if err := l.StopDaemon(n, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()

	cfg := l.DaemonConfig()
	doc := waitStatus(ctx, t, l, leader, cfg.SilentAfter+2*cfg.ResyncInterval+5*time.Second,
		"a pass started more than silent-after after "+n.Name+"'s last heartbeat", func(d status.Document) bool {
			for _, h := range d.Hosts {
				if h.Instance == n.InstanceID {
					return d.Reconcile != nil && d.Reconcile.Started.Sub(h.LastSeen) > cfg.SilentAfter
				}
			}
			return false
		})
	t.Logf("leader pass at %s, %s after %s's daemon was killed: %s", doc.Reconcile.Started.Format(time.TimeOnly),
		doc.Reconcile.Started.Sub(killed).Round(time.Millisecond), n.Name, reconcileSummary(doc))
	if s, err := l.Route(ctx, n); err != nil {
		t.Fatal(err)
	} else if !s.Routed(n) {
		t.Fatalf("route of silent %s: %s; want it kept (the instance still exists)", n.Name, s)
	}
	if ok, err := l.Ping(ctx, lab.ContainerEndpoint(old[0]), n.ContainerIP()); err != nil {
		t.Fatal(err)
	} else if !ok {
		t.Errorf("container0 cannot reach silent %s's container: a dead daemon must not break the data path", n.Name)
	}

	if err := l.TerminateHost(ctx, n); err != nil {
		t.Fatal(err)
	}
	gone = true
	released := time.Now()
	deadline := cfg.ResyncInterval + convergeTimeout
	if _, err := l.WaitRouteGone(ctx, n, deadline); err != nil {
		t.Fatal(err)
	}
	t.Logf("route of terminated %s deleted %s after its instance was released", n.Name, time.Since(released).Round(time.Millisecond))
	waitStatus(ctx, t, l, leader, convergeTimeout, n.Name+" forgotten", registeredExactly(old))
	requireEntries(ctx, t, l)
	checkUnowned(ctx, t, l)
}
