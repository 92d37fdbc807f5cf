package lab_test

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/examples/lab"
	"github.com/vpcroute/vpcroute/reconciler/status"
)

// TestDaemonRebootWhileEtcdIsDown: a host reboots while etcd is down (its
// daemon stopped, every iptables rule of the host gone, ip_forward 0,
// dockerd started again as at boot). Its daemon starts with the network
// saved in its cache dir and no etcd: the data path to and from its
// container works again before etcd is back (the first fresh ping from
// another host's container is timed from the daemon's start), with no
// route written or deleted. Then etcd comes back: the host registers again
// and the cluster has a leader and every route, the unowned ones as they
// were.
func TestDaemonRebootWhileEtcdIsDown(t *testing.T) {
	l := sharedLab(t)
	ctx := testCtx(t)
	ensureDaemons(ctx, t, l)
	h, peer := l.Hosts[len(l.Hosts)-1], l.Hosts[0] // not host0: TestCleanup compares host0 with its start
	before, err := l.IptablesSave(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	writesBefore := simWrites(ctx, t, l)

	if err := l.StopDaemon(h, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := l.StopEtcd(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	// Whatever happens below, the next test finds etcd running.
	t.Cleanup(func() {
		if err := l.RestartEtcd(context.Background()); err != nil {
			t.Errorf("restart etcd after the test: %v", err)
		}
	})
	if err := l.RebootHost(ctx, h); err != nil {
		t.Fatal(err)
	}
	// The reboot broke the data path: without vpcroute's rules Docker's
	// FORWARD chain drops new flows into the container from the VPC.
	if ok, err := l.Ping(ctx, lab.ContainerEndpoint(peer), h.ContainerIP()); err != nil || ok {
		t.Fatalf("precondition: after the reboot, %s's container reaches %s's (%v, err %v); the test would prove nothing", peer.Name, h.Name, ok, err)
	}

	watch, err := l.WatchPing(ctx, peer, h.ContainerIP(), 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := watch.Stop(ctx); err != nil {
			t.Error(err)
		}
	}()
	start := time.Now()
	if err := l.StartDaemonUntil(ctx, h, lab.HostConfigured); err != nil {
		t.Fatal(err)
	}
	configured := time.Since(start)
	var first time.Time
	select {
	case first = <-watch.First:
	case <-time.After(convergeTimeout):
		t.Fatalf("no reply from %s's container to %s's fresh pings within %s of the daemon's host config; daemon log: %s",
			h.Name, peer.Name, convergeTimeout, tailFile(h.DaemonLog()))
	}
	t.Logf("reboot with etcd down: host config ok %s and first cross-host ping reply %s after the daemon started",
		configured.Round(time.Millisecond), first.Sub(start).Round(time.Millisecond))
	// Every pair, both ways, with the containers' own source addresses,
	// while etcd is still down.
	expectMatrix(ctx, t, l, "after the reboot, etcd down", everything)
	checkSources(ctx, t, l)
	doc, err := l.Status(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Host.Registered || depState(doc, "etcd") == status.DepUp {
		t.Errorf("%s registered or etcd up while etcd is stopped: registered %v, dependencies %+v", h.Name, doc.Host.Registered, doc.Dependencies)
	}
	if now, err := l.IptablesSave(ctx, h); err != nil {
		t.Fatal(err)
	} else if dup := lab.DuplicateRules(now); len(dup) > 0 {
		t.Errorf("duplicated iptables rules on %s after the reboot:\n  %s", h.Name, strings.Join(dup, "\n  "))
	}

	etcdBack := time.Now()
	if err := l.RestartEtcd(ctx); err != nil {
		t.Fatal(err)
	}
	waitStatus(ctx, t, l, h, convergeTimeout, "registered again", func(d status.Document) bool { return d.Host.Registered })
	registered := time.Since(etcdBack)
	leader, err := l.WaitLeader(ctx, convergeTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("etcd back: %s registered again %s later; leader %s", h.Name, registered.Round(time.Millisecond), leader.Name)
	requireEntries(ctx, t, l)
	checkUnowned(ctx, t, l)
	if w := simWrites(ctx, t, l) - writesBefore; w != 0 {
		t.Errorf("%d route writes across the reboot and etcd's outage, want 0", w)
	}
	now, err := l.IptablesSave(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	if lab.SortedRules(now) != lab.SortedRules(before) {
		t.Errorf("after the reboot, iptables on %s are not the rules from before it:\n%s", h.Name, orderDiff(before, now))
	}
	expectMatrix(ctx, t, l, "after the reboot, etcd back", everything)
}

// simWrites is the simulator's count of write calls so far.
func simWrites(ctx context.Context, t *testing.T, l *lab.Lab) int {
	t.Helper()
	stats, err := l.SimStatsJSON(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return writes(t, stats)
}

// depState is the state of dependency name in a status document.
func depState(doc status.Document, name string) string {
	for _, d := range doc.Dependencies {
		if d.Name == name {
			return d.State
		}
	}
	return "absent"
}

// TestDaemonRestoresRulesWhileEtcdIsDown: with etcd down and the daemon
// running, every iptables table of a host is flushed and dockerd is
// restarted (its rules back on top of the empty tables). The daemon puts
// its own rules back from what the host knows, without etcd: the same
// rule set as before, no duplicate, every pair of containers reaching each
// other both ways, no route written. Then etcd comes back and nothing
// changes.
func TestDaemonRestoresRulesWhileEtcdIsDown(t *testing.T) {
	l := sharedLab(t)
	ctx := testCtx(t)
	ensureDaemons(ctx, t, l)
	h := l.Hosts[len(l.Hosts)-1] // not host0: TestCleanup compares host0 with its start
	before, err := l.IptablesSave(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	writesBefore := simWrites(ctx, t, l)
	if err := l.StopEtcd(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.RestartEtcd(context.Background()); err != nil {
			t.Errorf("restart etcd after the test: %v", err)
		}
	})
	waitStatus(ctx, t, l, h, convergeTimeout, "etcd seen down", func(d status.Document) bool { return depState(d, "etcd") != status.DepUp })

	if err := l.FlushIptables(ctx, h); err != nil {
		t.Fatal(err)
	}
	if err := l.RestartDocker(ctx, h); err != nil {
		t.Fatal(err)
	}
	dockerBack := time.Now()
	var now string
	deadline := dockerBack.Add(convergeTimeout)
	for {
		if now, err = l.IptablesSave(ctx, h); err != nil {
			t.Fatal(err)
		}
		if lab.SortedRules(now) == lab.SortedRules(before) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s's iptables not back to the rules from before the flush within %s of dockerd's restart:\n%s\ndaemon log: %s",
				h.Name, convergeTimeout, orderDiff(before, now), tailFile(h.DaemonLog()))
		}
		time.Sleep(100 * time.Millisecond)
	}
	restored := time.Since(dockerBack)
	if dup := lab.DuplicateRules(now); len(dup) > 0 {
		t.Errorf("duplicated iptables rules on %s:\n  %s", h.Name, strings.Join(dup, "\n  "))
	}
	doc, err := l.Status(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	if hc := doc.Host.HostConfig; hc.State != status.HostConfigOK || depState(doc, "etcd") == status.DepUp {
		t.Errorf("%s with etcd down after the flush: host config %s (%s), etcd %s", h.Name, hc.State, hc.Error, depState(doc, "etcd"))
	}
	t.Logf("iptables flushed and dockerd restarted with etcd down: %s's rule set as before %s after dockerd was back",
		h.Name, restored.Round(time.Millisecond))
	expectMatrix(ctx, t, l, "after the flush and dockerd's restart, etcd down", everything)
	checkSources(ctx, t, l)

	if err := l.RestartEtcd(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := l.WaitLeader(ctx, convergeTimeout); err != nil {
		t.Fatal(err)
	}
	requireEntries(ctx, t, l)
	checkUnowned(ctx, t, l)
	if w := simWrites(ctx, t, l) - writesBefore; w != 0 {
		t.Errorf("%d route writes across the flush and etcd's outage, want 0", w)
	}
	if now, err := l.IptablesSave(ctx, h); err != nil {
		t.Fatal(err)
	} else if lab.SortedRules(now) != lab.SortedRules(before) {
		t.Errorf("after etcd came back, iptables on %s differ from before the flush:\n%s", h.Name, orderDiff(before, now))
	}
}
