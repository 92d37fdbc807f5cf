package aliyun

import (
	"context"
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/cloud/sim"
)

// holdPending puts another process's change in flight in table, held until
// released: the VPC takes no other change meanwhile.
func holdPending(t *testing.T, f *fixture, table, dst string) (release func()) {
	t.Helper()
	req := sim.PutRouteRequest{Table: table, Destination: dst, NextHopType: "Instance", NextHopID: "i-bbb",
		Name: "other", Status: sim.StatusPending, Hold: true}
	if _, err := f.sim.PutRoute(req); err != nil {
		t.Fatal(err)
	}
	return func() {
		req.Status, req.Hold = sim.StatusAvailable, false
		if _, err := f.sim.PutRoute(req); err != nil {
			t.Error(err)
		}
	}
}

// createAsync runs CreateRoutes of one route in the background.
func createAsync(p *Provider, table, dst, instance string) <-chan error {
	done := make(chan error, 1)
	go func() {
		done <- p.CreateRoutes(context.Background(), table, []cloud.Route{route(dst, instance)})
	}()
	return done
}

// waitFor polls the simulator's counters until cond holds or the create
// ended; it gives up after a minute (a hang, not a measurement).
func waitFor(t *testing.T, f *fixture, done <-chan error, cond func(sim.Stats) bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond(f.sim.Stats()) {
		select {
		case err := <-done:
			t.Fatalf("the create ended (%v) before the expected calls: %v", err, f.sim.Stats().Actions)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("calls so far: %v", f.sim.Stats().Actions)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A change that finds another one in flight in its table waits for it,
// polling the table, instead of sending a change that would be refused.
func TestChangeQueuesBehindAChangeInFlight(t *testing.T) {
	f := newFixture(t, nil)
	p := f.provider(t, "i-aaa")
	release := holdPending(t, f, "vtb-lab", "10.9.0.0/24")
	f.sim.ResetStats()
	done := createAsync(p, "vtb-lab", "10.0.0.0/24", "i-aaa")
	// Either it sends into the busy VPC (the failure) or it keeps listing.
	waitFor(t, f, done, func(st sim.Stats) bool {
		return st.Calls("CreateRouteEntry") > 0 || st.Calls("DescribeRouteEntryList") >= 3
	})
	if n := f.sim.Stats().Calls("CreateRouteEntry"); n > 0 {
		t.Errorf("%d create calls sent while another change was in flight, want 0", n)
	}
	release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	st := f.sim.Stats()
	if st.Count("CreateRouteEntry", "ok") != 1 || st.Errors("CreateRouteEntry") != 0 {
		t.Errorf("create calls %v, want one, accepted", st.Actions["CreateRouteEntry"])
	}
}

// A change refused because of a change in flight in another table of the
// VPC waits for that table to settle, polling it, and is sent again once
// it has: not again and again after a blind backoff.
func TestRefusedChangeWaitsForTheVPCToSettle(t *testing.T) {
	f := newFixture(t, func(topo *sim.Topology) {
		topo.VSwitches = append(topo.VSwitches, sim.VSwitchSpec{ID: "vsw-two", CIDR: "192.168.2.0/24"})
		topo.RouteTables = append(topo.RouteTables, sim.RouteTableSpec{ID: "vtb-two", Type: "Custom", VSwitches: []string{"vsw-two"}})
	})
	p := f.provider(t, "i-aaa")
	// The provider has listed both tables, as a sync's plan does.
	for _, table := range []string{"vtb-lab", "vtb-two"} {
		if _, err := p.Routes(context.Background(), table); err != nil {
			t.Fatal(err)
		}
	}
	release := holdPending(t, f, "vtb-two", "10.9.0.0/24")
	f.sim.ResetStats()
	done := createAsync(p, "vtb-lab", "10.0.0.0/24", "i-aaa")
	// Refused once; then either sent again blindly (the failure) or the
	// tables are listed while the change in vtb-two is held.
	waitFor(t, f, done, func(st sim.Stats) bool { return st.Calls("CreateRouteEntry") >= 1 })
	lists := f.sim.Stats().Calls("DescribeRouteEntryList")
	waitFor(t, f, done, func(st sim.Stats) bool {
		return st.Calls("CreateRouteEntry") >= 2 || st.Calls("DescribeRouteEntryList") >= lists+4
	})
	if st := f.sim.Stats(); st.Calls("CreateRouteEntry") != 1 {
		t.Errorf("create calls %v while the VPC was busy, want the one refused", st.Actions["CreateRouteEntry"])
	}
	release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	st := f.sim.Stats()
	if st.Count("CreateRouteEntry", "ok") != 1 || st.Errors("CreateRouteEntry") != 1 {
		t.Errorf("create calls %v, want one refused and one accepted", st.Actions["CreateRouteEntry"])
	}
}

// The provider learns how long a change takes in its VPC from its own.
func TestProviderLearnsTheSettleTime(t *testing.T) {
	const pendingDelay = 300 * time.Millisecond
	f := newFixture(t, nil, sim.WithPendingDelay(pendingDelay))
	p := f.provider(t, "i-aaa")
	if got := p.settle.expected(); got != 0 {
		t.Fatalf("a new provider expects %s, want nothing learned", got)
	}
	if err := <-createAsync(p, "vtb-lab", "10.0.0.0/24", "i-aaa"); err != nil {
		t.Fatal(err)
	}
	// The listings bracket the change: it cannot look shorter than half
	// the Pending period; the upper bound is loose (a loaded machine).
	if got := p.settle.expected(); got < pendingDelay/2 || got > 2*time.Second {
		t.Errorf("learned %s from a change Pending for %s", got, pendingDelay)
	}
}
