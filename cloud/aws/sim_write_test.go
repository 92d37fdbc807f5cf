package aws

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/cloud/sim"
	"github.com/vpcroute/vpcroute/reconciler"
)

// snapshot renders every route of the simulator's tables that vpcroute
// must never touch (everything but 10.0.0.0/8), to compare before/after.
func foreignRoutes(ts *sim.TestServer) []string {
	var out []string
	cidr := netip.MustParsePrefix("10.0.0.0/8")
	for _, t := range ts.Routes() {
		for _, e := range t.Entries {
			if p, err := netip.ParsePrefix(e.Destination); err == nil && cidr.Contains(p.Addr()) {
				continue
			}
			out = append(out, fmt.Sprintf("%s %s %s/%s %s", t.ID, e.Destination, e.NextHopType, e.NextHopID, e.Status))
		}
	}
	return out
}

func TestSimSyncIsIdempotentAndLeavesForeignRoutesAlone(t *testing.T) {
	ts := newSim(t, nil)
	before := foreignRoutes(ts)
	if len(before) < 4 {
		t.Fatalf("the default world should hold local, IGW, peering and endpoint routes: %v", before)
	}
	ctx := context.Background()
	for i, host := range []struct {
		instance string
		subnet   string
	}{{simInstA, "10.0.0.0/24"}, {simInstB, "10.1.0.0/24"}} {
		p := simProvider(t, ts, host.instance, nil)
		opts := reconciler.HostOptions{Cluster: testCluster, ClusterCIDR: netip.MustParsePrefix("10.0.0.0/8"), Policy: reconciler.PolicySync}
		subnets := []netip.Prefix{netip.MustParsePrefix(host.subnet)}
		// What `vpcroute sync` does: plan, prepare the host, apply.
		plan, err := reconciler.PlanHost(ctx, p, opts, subnets)
		if err != nil {
			t.Fatal(err)
		}
		if len(plan.Changes.Create) != 1 || len(plan.Changes.Conflicts) != 0 {
			t.Fatalf("host %d: plan = %+v", i, plan.Changes)
		}
		if err := p.PrepareHost(ctx); err != nil {
			t.Fatal(err)
		}
		if err := reconciler.ApplyHost(ctx, p, plan, 10*time.Second); err != nil {
			t.Fatal(err)
		}
		// The second run: nothing to do, no write.
		ts.ResetStats()
		p2 := simProvider(t, ts, host.instance, nil)
		plan, err = reconciler.PlanHost(ctx, p2, opts, subnets)
		if err != nil {
			t.Fatal(err)
		}
		if err := p2.PrepareHost(ctx); err != nil {
			t.Fatal(err)
		}
		if err := reconciler.ApplyHost(ctx, p2, plan, 10*time.Second); err != nil {
			t.Fatal(err)
		}
		if len(plan.Changes.Create)+len(plan.Changes.Delete) != 0 || len(plan.Changes.InSync) != 1 {
			t.Errorf("host %d second run: plan = %+v", i, plan.Changes)
		}
		if st := ts.Stats(); st.Writes != 0 {
			t.Errorf("host %d second run made %d writes: %v", i, st.Writes, st.Actions)
		}
	}
	p := simProvider(t, ts, simInstA, nil)
	if got := simOwned(t, p); fmt.Sprint(got) != "[10.0.0.0/24>"+simENIA+" Available 10.1.0.0/24>"+simENIB+" Available]" {
		t.Errorf("owned = %v", got)
	}
	if after := foreignRoutes(ts); !slices.Equal(before, after) {
		t.Errorf("routes vpcroute does not own changed:\nbefore %v\nafter  %v", before, after)
	}
	// The prefix-list route (no destination CIDR) is skipped, not an error;
	// the others are listed and not owned.
	rs, err := p.Routes(ctx, simTable)
	if err != nil {
		t.Fatal(err)
	}
	var foreign []string
	for _, r := range rs {
		if !r.OwnedBy(testCluster) {
			foreign = append(foreign, r.Destination.String()+" "+r.Target.String())
		}
	}
	want := "[192.168.0.0/16 Local/local 172.20.0.0/16 Local/local 0.0.0.0/0 InternetGateway/igw-0a1b2c3d4e5f60001 172.16.0.0/16 VpcPeeringConnection/pcx-0a1b2c3d4e5f60001]"
	if fmt.Sprint(foreign) != want {
		t.Errorf("foreign routes = %v\nwant %s", foreign, want)
	}
}

func TestSimRouteAlreadyExists(t *testing.T) {
	ts := newSim(t, nil)
	prepare(t, ts, simInstA, simInstB)
	for _, r := range []sim.PutRouteRequest{
		{Table: simTable, Destination: "10.0.0.0/24", NextHopType: "NetworkInterface", NextHopID: simENIA},
		{Table: simTable, Destination: "10.0.1.0/24", NextHopType: "NetworkInterface", NextHopID: simENIB},
		{Table: simTable, Destination: "10.0.2.0/24", NextHopType: "NatGateway", NextHopID: "nat-0a1b2c3d4e5f60001"},
	} {
		if _, err := ts.PutRoute(r); err != nil {
			t.Fatal(err)
		}
	}
	p := simProvider(t, ts, simInstA, nil)
	ctx := context.Background()
	ts.ResetStats()
	if err := p.CreateRoutes(ctx, simTable, []cloud.Route{simRoute("10.0.0.0/24", simENIA)}); err != nil {
		t.Errorf("RouteAlreadyExists with the same target must succeed: %v", err)
	}
	if n := ts.Stats().Count("CreateRoute", "RouteAlreadyExists"); n != 1 {
		t.Errorf("RouteAlreadyExists answers = %d, want 1", n)
	}
	err := p.CreateRoutes(ctx, simTable, []cloud.Route{simRoute("10.0.1.0/24", simENIA), simRoute("10.0.2.0/24", simENIA)})
	for _, want := range []string{
		"create route 10.0.1.0/24 in " + simTable + ": destination is held by NetworkInterface/" + simENIB + " (vpcroute cluster lab)",
		"create route 10.0.2.0/24 in " + simTable + ": destination is held by NatGateway/nat-0a1b2c3d4e5f60001 (a route not vpcroute's, origin CreateRoute)",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v\nwant it to contain %q", err, want)
		}
	}
}

func TestSimDeleteRechecksOwnership(t *testing.T) {
	ts := newSim(t, nil)
	// ENI B is not tagged (its host never prepared): the route to it is not
	// the cluster's, even inside the cluster CIDR.
	prepare(t, ts, simInstA)
	for _, r := range []sim.PutRouteRequest{
		{Table: simTable, Destination: "10.0.0.0/24", NextHopType: "NetworkInterface", NextHopID: simENIA},
		{Table: simTable, Destination: "10.1.0.0/24", NextHopType: "NetworkInterface", NextHopID: simENIB},
	} {
		if _, err := ts.PutRoute(r); err != nil {
			t.Fatal(err)
		}
	}
	p := simProvider(t, ts, simInstA, nil)
	ctx := context.Background()
	ts.ResetStats()
	err := p.DeleteRoutes(ctx, simTable, []cloud.Route{simRoute("10.1.0.0/24", simENIB)})
	if err == nil || !strings.Contains(err.Error(), "refusing to delete 10.1.0.0/24 -> NetworkInterface/"+simENIB) {
		t.Errorf("err = %v", err)
	}
	if w := ts.Stats().Writes; w != 0 {
		t.Fatalf("%d writes for a route vpcroute does not own", w)
	}
	if err := p.DeleteRoutes(ctx, simTable, []cloud.Route{simRoute("10.0.0.0/24", simENIA)}); err != nil {
		t.Fatal(err)
	}
	// Deleted behind our back between listing and sending: success.
	if _, err := ts.PutRoute(sim.PutRouteRequest{Table: simTable, Destination: "10.0.0.0/24", NextHopType: "NetworkInterface", NextHopID: simENIA}); err != nil {
		t.Fatal(err)
	}
	if err := ts.AddFault(sim.FaultRule{Action: "DeleteRoute", Code: "InvalidRoute.NotFound", Count: 1}); err != nil {
		t.Fatal(err)
	}
	if err := p.DeleteRoutes(ctx, simTable, []cloud.Route{simRoute("10.0.0.0/24", simENIA)}); err != nil {
		t.Errorf("InvalidRoute.NotFound on delete: %v", err)
	}
}

func TestSimReplaceMovesWithoutDeleting(t *testing.T) {
	ts := newSim(t, nil)
	prepare(t, ts, simInstA, simInstB)
	if _, err := ts.PutRoute(sim.PutRouteRequest{Table: simTable, Destination: "10.0.0.0/24", NextHopType: "NetworkInterface", NextHopID: simENIB}); err != nil {
		t.Fatal(err)
	}
	p := simProvider(t, ts, simInstA, nil)
	ctx := context.Background()
	ts.ResetStats()
	// The reconciler's move: delete the stale owned route and create the
	// right one; with a Replacer that is one atomic call.
	ch := reconciler.Changes{
		Delete: []cloud.Route{simRoute("10.0.0.0/24", simENIB)},
		Create: []cloud.Route{simRoute("10.0.0.0/24", simENIA)},
	}
	if err := reconciler.Apply(ctx, p, ch); err != nil {
		t.Fatal(err)
	}
	st := ts.Stats()
	if r, d, c := st.Calls("ReplaceRoute"), st.Calls("DeleteRoute"), st.Calls("CreateRoute"); r != 1 || d != 0 || c != 0 {
		t.Errorf("ReplaceRoute/DeleteRoute/CreateRoute = %d/%d/%d, want 1/0/0", r, d, c)
	}
	if got := simOwned(t, p); fmt.Sprint(got) != "[10.0.0.0/24>"+simENIA+" Available]" {
		t.Errorf("owned = %v", got)
	}
}

func TestSimBlackholeAfterTerminationIsOwnedGoneAndRemoved(t *testing.T) {
	ts := newSim(t, nil)
	prepare(t, ts, simInstA, simInstB)
	p := simProvider(t, ts, simInstA, nil)
	ctx := context.Background()
	if err := p.CreateRoutes(ctx, simTable, []cloud.Route{simRoute("10.1.0.0/24", simENIB)}); err != nil {
		t.Fatal(err)
	}
	if err := ts.SetInstanceState(simInstB, "terminated"); err != nil {
		t.Fatal(err)
	}
	if got := simOwned(t, p); fmt.Sprint(got) != "[10.1.0.0/24>"+simENIB+" Blackhole]" {
		t.Fatalf("owned after termination = %v", got)
	}
	gone, err := p.GoneTargets(ctx, []cloud.Target{eniTarget(simENIB), eniTarget(simENIA)})
	if err != nil || fmt.Sprint(gone) != "[NetworkInterface/"+simENIB+"]" {
		t.Fatalf("GoneTargets = %v, %v", gone, err)
	}
	if err := p.DeleteRoutes(ctx, simTable, []cloud.Route{simRoute("10.1.0.0/24", simENIB)}); err != nil {
		t.Fatal(err)
	}
	if got := simOwned(t, p); len(got) != 0 {
		t.Errorf("owned after cleanup = %v", got)
	}
}

func TestSimGoneTargets(t *testing.T) {
	ts := newSim(t, func(topo *sim.Topology) {
		f := false
		topo.Instances = append(topo.Instances,
			sim.InstanceSpec{ID: "i-0cccccccccccccccc", PrivateIP: "192.168.1.198", ENI: "eni-0cccccccccccccccc", Status: "stopped"},
			sim.InstanceSpec{ID: "i-0dddddddddddddddd", PrivateIP: "192.168.1.199", ENI: "eni-0dddddddddddddddd", Status: "shutting-down"},
			sim.InstanceSpec{ID: "i-0eeeeeeeeeeeeeeee", PrivateIP: "192.168.1.200", ENI: "eni-0eeeeeeeeeeeeeeee",
				NetworkInterfaces: []sim.ENISpec{{ID: "eni-0eeeeeeeeeeeeeee2", PrivateIP: "192.168.1.201", DeleteOnTermination: &f}}},
		)
	})
	if err := ts.SetInstanceState("i-0eeeeeeeeeeeeeeee", "terminated"); err != nil {
		t.Fatal(err)
	}
	p := simProvider(t, ts, simInstA, nil)
	targets := []cloud.Target{
		eniTarget(simENIA),                 // running
		eniTarget("eni-0cccccccccccccccc"), // stopped: keeps its routes
		eniTarget("eni-0dddddddddddddddd"), // shutting down
		eniTarget("eni-0eeeeeeeeeeeeeeee"), // deleted with its instance
		eniTarget("eni-0eeeeeeeeeeeeeee2"), // kept, detached: may be attached again
		eniTarget("eni-0123456789abcdef0"), // never existed
		{Kind: cloud.TargetInstance, ID: simInstB},
		{Kind: cloud.TargetInstance, ID: "i-0eeeeeeeeeeeeeeee"},
		{Kind: cloud.TargetInstance, ID: "i-0123456789abcdef0"},
	}
	ts.ResetStats()
	gone, err := p.GoneTargets(context.Background(), targets)
	if err != nil {
		t.Fatal(err)
	}
	want := "[NetworkInterface/eni-0dddddddddddddddd NetworkInterface/eni-0eeeeeeeeeeeeeeee NetworkInterface/eni-0123456789abcdef0 Instance/i-0eeeeeeeeeeeeeeee Instance/i-0123456789abcdef0]"
	if fmt.Sprint(gone) != want {
		t.Errorf("gone = %v\nwant   %s", gone, want)
	}
	if st := ts.Stats(); st.Calls("DescribeNetworkInterfaces") != 1 || st.Calls("DescribeInstances") != 1 {
		t.Errorf("calls = %v, want one of each", st.Actions)
	}
	if err := ts.AddFault(sim.FaultRule{Action: "DescribeInstances", Code: "UnauthorizedOperation"}); err != nil {
		t.Fatal(err)
	}
	if gone, err := p.GoneTargets(context.Background(), targets); err == nil || gone != nil {
		t.Errorf("on error: %v, %v; want nothing gone", gone, err)
	}
}

func TestSimPrepareHostVerifiesAndDoesNotResend(t *testing.T) {
	ts := newSim(t, nil)
	ctx := context.Background()
	p := simProvider(t, ts, simInstA, nil)
	ts.ResetStats()
	if err := p.PrepareHost(ctx); err != nil {
		t.Fatal(err)
	}
	st := ts.Stats()
	if c, m, v := st.Count("CreateTags", "ok"), st.Count("ModifyNetworkInterfaceAttribute", "ok"), st.Count("DescribeNetworkInterfaceAttribute", "ok"); c != 1 || m != 1 || v != 2 {
		t.Errorf("CreateTags/Modify/DescribeAttribute = %d/%d/%d, want 1/1/2: %v", c, m, v, st.Actions)
	}
	if on, err := p.sourceDestCheck(ctx, simENIA); err != nil || on {
		t.Errorf("source/dest check on = %v, %v", on, err)
	}
	// The daemon's periodic call, and a later run: no write.
	if err := p.PrepareHost(ctx); err != nil {
		t.Fatal(err)
	}
	if err := simProvider(t, ts, simInstA, nil).PrepareHost(ctx); err != nil {
		t.Fatal(err)
	}
	if w := ts.Stats().Writes; w != 2 {
		t.Errorf("writes = %d, want the first run's 2 only", w)
	}
	// Another cluster's host is refused, untouched.
	pOther := simProvider(t, ts, simInstA, func(o *Options) { o.Cluster = "prod" })
	ts.ResetStats()
	if err := pOther.PrepareHost(ctx); err == nil || !strings.Contains(err.Error(), "is tagged vpcroute:cluster=lab") {
		t.Errorf("err = %v", err)
	}
	if w := ts.Stats().Writes; w != 0 {
		t.Errorf("%d writes on another cluster's ENI", w)
	}
}

func TestSimRouteLimitIsAQuotaErrorWithCount(t *testing.T) {
	ts := newSim(t, nil, sim.WithBehaviour(func(b *sim.Behaviour) { b.Quota = 5 }))
	prepare(t, ts, simInstA)
	p := simProvider(t, ts, simInstA, nil)
	var rs []cloud.Route
	for i := range 5 {
		rs = append(rs, simRoute(fmt.Sprintf("10.0.%d.0/24", i), simENIA))
	}
	ts.ResetStats()
	err := p.CreateRoutes(context.Background(), simTable, rs)
	var qe *cloud.QuotaError
	if !errors.As(err, &qe) {
		t.Fatalf("err = %v, want a QuotaError", err)
	}
	// The table held 3 added routes (IGW, peering, endpoint); 2 of ours fit.
	if qe.TableID != simTable || qe.Used != 5 || qe.Quota != 5 || qe.Code != "RouteLimitExceeded" {
		t.Errorf("QuotaError = %+v", qe)
	}
	if !strings.Contains(err.Error(), "route table "+simTable+" is full: it holds 5 entries and its quota is 5") {
		t.Errorf("err = %v", err)
	}
	if n := ts.Stats().Calls("CreateRoute"); n != 3 {
		t.Errorf("CreateRoute calls = %d, want 3: the full table is neither retried nor sent the rest", n)
	}
}

func TestSimRouteTableTagSelectsTables(t *testing.T) {
	ts := newSim(t, func(topo *sim.Topology) {
		topo.RouteTables = append(topo.RouteTables, sim.RouteTableSpec{ID: "rtb-0a1b2c3d4e5f60002", Tags: map[string]string{"Name": "untagged"}})
	})
	all := simProvider(t, ts, simInstA, nil)
	tagged := simProvider(t, ts, simInstA, func(o *Options) { o.RouteTableTag = true })
	other := simProvider(t, ts, simInstA, func(o *Options) { o.RouteTableTag, o.Cluster = true, "prod" })
	ctx := context.Background()
	n, err := all.Network(ctx)
	if err != nil || fmt.Sprint(n.RouteTables) != "["+simTable+" rtb-0a1b2c3d4e5f60002]" {
		t.Errorf("all tables = %v, %v", n.RouteTables, err)
	}
	n, err = tagged.Network(ctx)
	if err != nil || fmt.Sprint(n.RouteTables) != "["+simTable+"]" {
		t.Errorf("tagged tables = %v, %v", n.RouteTables, err)
	}
	_, err = other.Network(ctx)
	if err == nil || !strings.Contains(err.Error(), "has no route table tagged vpcroute:cluster=prod") {
		t.Errorf("err = %v", err)
	}
}
