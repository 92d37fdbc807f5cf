package lab_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/examples/lab"
)

// TestSyncMakesEveryPairReachable: before sync no cross-host pair reaches
// another; after `vpcroute sync` on every host (at once, as hosts booting
// together would) every pair does, both ways, host to remote container
// included; a second round writes nothing to the cloud and changes no rule.
func TestSyncMakesEveryPairReachable(t *testing.T) {
	l := sharedLab(t)
	ctx := testCtx(t)
	resetToUnsynced(ctx, t, l)

	m := expectMatrix(ctx, t, l, "before sync", sameHostOnly)
	if ok, total := m.CrossHost(); ok != 0 || total == 0 {
		t.Fatalf("before sync: %d of %d cross-host probes succeeded, want 0 of more than 0", ok, total)
	}

	a, b := l.Hosts[0], l.Hosts[1]
	watch, err := l.WatchPing(ctx, a, b.ContainerIP(), 90*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := watch.Stop(ctx); err != nil {
			t.Error(err)
		}
	}()
	start := time.Now()
	res, err := l.SyncAll(ctx)
	if err != nil {
		t.Fatalf("%v\n%s", err, syncOutputs(res))
	}
	for _, r := range res {
		t.Logf("vpcroute sync on %s took %s", r.Host.Name, r.Duration.Round(time.Millisecond))
	}
	select {
	case first := <-watch.First:
		t.Logf("first cross-host ping (container0 -> container1) %s after sync started", first.Sub(start).Round(time.Millisecond))
	case <-time.After(10 * time.Second):
		t.Errorf("no reply to the continuous ping container0 -> container1 within 10s after every sync returned")
	}

	expectMatrix(ctx, t, l, "after sync", everything)
	requireEntries(ctx, t, l)

	// Second round: nothing to do.
	statsBefore, err := l.SimStatsJSON(ctx)
	if err != nil {
		t.Fatal(err)
	}
	iptBefore := map[string]string{}
	for _, h := range l.Hosts {
		if iptBefore[h.Name], err = l.IptablesSave(ctx, h); err != nil {
			t.Fatal(err)
		}
	}
	if res, err := l.SyncAll(ctx); err != nil {
		t.Fatalf("second sync: %v\n%s", err, syncOutputs(res))
	}
	statsAfter, err := l.SimStatsJSON(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wb, wa := writes(t, statsBefore), writes(t, statsAfter)
	if wa != wb {
		t.Errorf("second sync on every host made %d write calls to the cloud, want 0 (stats before %s, after %s)", wa-wb, statsBefore, statsAfter)
	}
	for _, h := range l.Hosts {
		after, err := l.IptablesSave(ctx, h)
		if err != nil {
			t.Fatal(err)
		}
		if after != iptBefore[h.Name] {
			t.Errorf("second sync changed iptables on %s:\n%s", h.Name, orderDiff(iptBefore[h.Name], after))
		}
	}
}

// TestReceiverSeesContainerSource: a container's new connection to another
// host's container arrives from the sender container's own address, not its
// host's (Docker's MASQUERADE is bypassed inside the cluster). The receiver
// reports the peer address itself.
func TestReceiverSeesContainerSource(t *testing.T) {
	l := sharedLab(t)
	ctx := testCtx(t)
	ensureSynced(ctx, t, l)
	checkSources(ctx, t, l)
}

// checkSources asserts, for every ordered pair of hosts, that the receiving
// container sees the sender container's address.
func checkSources(ctx context.Context, t *testing.T, l *lab.Lab) {
	t.Helper()
	for _, from := range l.Hosts {
		for _, to := range l.Hosts {
			if from == to {
				continue
			}
			got, err := l.PeerAddr(ctx, lab.ContainerEndpoint(from), to)
			if err != nil {
				t.Errorf("%s -> %s: %v", from.Name, to.Name, err)
				continue
			}
			if want := from.ContainerIP(); got != want {
				t.Errorf("%s's container saw a connection from %s's container arrive from %s, want the container's own %s", to.Name, from.Name, got, want)
			}
		}
	}
}

// TestDockerRestartThenSyncRestores: dockerd restarts on one host; Docker
// re-adds its own rules, on this version its MASQUERADE ahead of vpcroute's
// exemption. `vpcroute sync` again brings every pair back with container
// source addresses, the rules are the same set as before the restart with
// none duplicated and the exemption first in nat POSTROUTING, and a further
// sync changes nothing.
func TestDockerRestartThenSyncRestores(t *testing.T) {
	l := sharedLab(t)
	ctx := testCtx(t)
	ensureSynced(ctx, t, l)
	h := l.Hosts[len(l.Hosts)-1] // not host0: TestCleanup compares host0 with its start

	before, err := l.IptablesSave(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.RestartDocker(ctx, h); err != nil {
		t.Fatal(err)
	}
	restarted, err := l.IptablesSave(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	// What Docker did is Docker's business: logged, not asserted.
	t.Logf("iptables on %s after the dockerd restart, before sync (- before restart, + now):\n%s", h.Name, orderDiff(before, restarted))
	if peer, err := l.PeerAddr(ctx, lab.ContainerEndpoint(h), l.Hosts[0]); err == nil {
		t.Logf("before sync, host0's container sees %s's container as %s", h.Name, peer)
	}

	if r := l.Sync(ctx, h); r.Err != nil {
		t.Fatalf("sync after dockerd restart: %v\n%s", r.Err, r.Output)
	}
	after, err := l.IptablesSave(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	if dup := lab.DuplicateRules(after); len(dup) > 0 {
		t.Errorf("after dockerd restart and sync, duplicated iptables rules on %s:\n  %s", h.Name, strings.Join(dup, "\n  "))
	}
	if lab.SortedRules(after) != lab.SortedRules(before) {
		t.Errorf("after dockerd restart and sync, iptables on %s are not the same rules as before the restart:\n%s", h.Name, orderDiff(before, after))
	}
	if post := lab.ChainRules(after, "nat", "POSTROUTING"); len(post) == 0 || !strings.Contains(post[0], "VPCROUTE-POSTROUTING") {
		t.Errorf("after dockerd restart and sync, the first nat POSTROUTING rule on %s is %q, want the jump to VPCROUTE-POSTROUTING (ahead of Docker's MASQUERADE)", h.Name, post)
	}
	expectMatrix(ctx, t, l, "after dockerd restart and sync", everything)
	checkSources(ctx, t, l)

	if r := l.Sync(ctx, h); r.Err != nil {
		t.Fatalf("second sync after restart: %v\n%s", r.Err, r.Output)
	}
	again, err := l.IptablesSave(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	if again != after {
		t.Errorf("a further sync changed iptables on %s:\n%s", h.Name, orderDiff(after, again))
	}
}

// TestDeletedEntryOnlyThatSubnetUnreachable: an operator deletes one host's
// entry behind vpcroute's back. Exactly the cross-host paths into and out of
// that host's container subnet break (a reply needs the route too); every
// other pair keeps working. `vpcroute sync` on that host restores it.
func TestDeletedEntryOnlyThatSubnetUnreachable(t *testing.T) {
	l := sharedLab(t)
	ctx := testCtx(t)
	ensureSynced(ctx, t, l)
	h := l.Hosts[1]

	if err := l.SimDeleteRoute(ctx, lab.RouteTableID, h.Subnet.String()); err != nil {
		t.Fatal(err)
	}
	waitKernelRoute(ctx, t, l, h, false)
	expectMatrix(ctx, t, l, "after deleting "+h.Name+"'s entry", func(from, to lab.Endpoint) bool {
		if from.Host == to.Host {
			return true
		}
		touchesSubnet := to.Host == h.Index || (from.Kind == lab.Container && from.Host == h.Index)
		return !touchesSubnet
	})

	if r := l.Sync(ctx, h); r.Err != nil {
		t.Fatalf("sync on %s: %v\n%s", h.Name, r.Err, r.Output)
	}
	waitKernelRoute(ctx, t, l, h, true)
	expectMatrix(ctx, t, l, "after sync on "+h.Name, everything)
	requireEntries(ctx, t, l)
}

// TestUnownedEntriesUntouched: the entries vpcroute does not own (internet
// via NAT gateway, an office VPN, a hand-made route inside the cluster CIDR
// pointing at a lab instance), in the table before any run, are byte for
// byte what they were after syncs, a removal and a re-sync.
func TestUnownedEntriesUntouched(t *testing.T) {
	l := sharedLab(t)
	ctx := testCtx(t)
	initial, err := lab.ParseSimRoutes(l.InitialRoutes)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range unownedRoutes {
		if _, ok := lab.FindEntry(initial, r.Table, r.Destination); !ok {
			t.Fatalf("unowned entry %s is not in the table at the start:\n%s", r.Destination, l.InitialRoutes)
		}
	}
	ensureSynced(ctx, t, l)
	h := l.Hosts[0]
	if out, err := l.Vpcroute(ctx, h, "sync", "--remove"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	ensureSynced(ctx, t, l)

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

// TestCleanupRestoresDockerOnlyIptables: `vpcroute cleanup` leaves a host's
// iptables exactly (rules and order) as dockerd alone had them before
// vpcroute ever ran, and a second cleanup changes nothing.
func TestCleanupRestoresDockerOnlyIptables(t *testing.T) {
	l := sharedLab(t)
	ctx := testCtx(t)
	ensureSynced(ctx, t, l)
	h := l.Hosts[0]
	synced, err := l.IptablesSave(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	if synced == h.BaselineIptables() {
		t.Fatalf("after sync, iptables on %s equal dockerd's own: sync added no rule, the test would prove nothing", h.Name)
	}
	for round := 1; round <= 2; round++ {
		if out, err := l.Vpcroute(ctx, h, "cleanup"); err != nil {
			t.Fatalf("cleanup round %d: %v\n%s", round, err, out)
		}
		got, err := l.IptablesSave(ctx, h)
		if err != nil {
			t.Fatal(err)
		}
		if got != h.BaselineIptables() {
			t.Errorf("after cleanup round %d, iptables on %s differ from dockerd's own:\n%s", round, h.Name, orderDiff(h.BaselineIptables(), got))
		}
	}
	// Leave the lab synced for whatever runs next.
	ensureSynced(ctx, t, l)
}
