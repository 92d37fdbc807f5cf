package reconciler

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/vpcroute/vpcroute/cloud"
)

// planBenchWorld is one table of a cluster of n hosts as the leader sees
// it at a resync: nearly every route in place, 1 % to create, 0.4 % to
// move from a stale target, n/100 stale routes of gone hosts, some claims
// overlapping another host's, and a few unowned entries (a default route,
// a VPN range, a more specific entry shadowing one host's subnet).
type planBenchWorld struct {
	hosts  []Host
	tables map[string][]cloud.Route
	input  PlanInput // without Desired
}

func benchPlanSubnet(i int) netip.Prefix {
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i / 256), byte(i % 256), 0}), 24)
}

func newPlanBenchWorld(n int) planBenchWorld {
	const table = "vtb-bench"
	target := func(i int) cloud.Target {
		return cloud.Target{Kind: cloud.TargetInstance, ID: fmt.Sprintf("i-plan-%d", i)}
	}
	entries := []cloud.Route{
		{TableID: table, Destination: pfx("192.168.0.0/20"), Target: cloud.Target{Kind: "local"}, System: true},
		{TableID: table, Destination: pfx("0.0.0.0/0"), Target: ngw, Name: "internet"},
		{TableID: table, Destination: pfx("10.200.0.0/16"), Target: vpn, Name: "office"},
		{TableID: table, Destination: pfx("10.0.5.128/25"), Target: vpn, Name: "lab"},
	}
	var hosts []Host
	for i := range n {
		h := Host{Instance: target(i).ID, Target: target(i), Order: int64(i + 1), Subnets: []Claim{{Subnet: benchPlanSubnet(i)}}}
		if i%200 == 3 { // a second claim inside the previous host's subnet
			h.Subnets = append(h.Subnets, Claim{Subnet: netip.PrefixFrom(benchPlanSubnet(i-1).Addr(), 25)})
		}
		hosts = append(hosts, h)
		switch {
		case i%100 == 0: // not routed yet
		case i%250 == 1: // routed to the host's previous instance
			entries = append(entries, cloud.Route{TableID: table, Destination: benchPlanSubnet(i), Target: target(n + i), Cluster: "bench"})
		default:
			entries = append(entries, cloud.Route{TableID: table, Destination: benchPlanSubnet(i), Target: target(i), Cluster: "bench"})
		}
	}
	for i := range n / 100 { // hosts gone since
		entries = append(entries, cloud.Route{TableID: table, Destination: benchPlanSubnet(n + 256 + i), Target: target(2*n + i), Cluster: "bench"})
	}
	tables := map[string][]cloud.Route{table: entries}
	var vswitches []netip.Prefix
	for i := range 16 {
		vswitches = append(vswitches, netip.PrefixFrom(netip.AddrFrom4([4]byte{192, 168, byte(i), 0}), 24))
	}
	return planBenchWorld{hosts: hosts, tables: tables, input: PlanInput{
		Cluster: "bench", ClusterCIDR: pfx("10.0.0.0/8"), VPCCIDRs: []netip.Prefix{pfx("192.168.0.0/16")},
		SubnetCIDRs: vswitches, Tables: tables, Policy: PolicySync, Replace: true,
	}}
}

// plan runs what the leader's pass runs between reading the tables and
// guarding the deletions: RoutedIn, DesiredFromHosts and Calculate.
func (w planBenchWorld) plan(desiredFrom func([]Host, Routed) ([]Desired, []ClaimConflict), calculate func(PlanInput) Changes) (Changes, []ClaimConflict) {
	desired, conflicts := desiredFrom(w.hosts, RoutedIn(w.tables, w.input.Cluster))
	in := w.input
	in.Desired = desired
	return calculate(in), conflicts
}

// BenchmarkPlanReference times the plan as it was before issue 14: the
// quadratic reference of plan_reference_test.go. It is declared first so
// that benchstat -col .name takes it as the base.
func BenchmarkPlanReference(b *testing.B) {
	benchPlan(b, desiredFromHostsReference, planReference)
}

// BenchmarkPlan times the leader's plan of one table of N routes; its
// reference is BenchmarkPlanReference, the quadratic algorithm it replaced.
func BenchmarkPlan(b *testing.B) {
	benchPlan(b, DesiredFromHosts, Calculate)
}

func benchPlan(b *testing.B, desiredFrom func([]Host, Routed) ([]Desired, []ClaimConflict), calculate func(PlanInput) Changes) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			w := newPlanBenchWorld(n)
			ch, conflicts := w.plan(desiredFrom, calculate)
			// The world must exercise the plan, not only its fast path.
			creates, deletes, claims := n/100+n/250, n/250+n/100, n/200
			if len(ch.Create) != creates || len(ch.Delete) != deletes || len(conflicts) != claims ||
				len(ch.Conflicts) != 1 || len(ch.InSync) != n-creates || len(ch.Refused) != 0 {
				b.Fatalf("plan of %d routes: %d creates (want %d), %d deletes (want %d), %d claim conflicts (want %d), %d conflicts (want 1), %d in sync (want %d), %d refused",
					n, len(ch.Create), creates, len(ch.Delete), deletes, len(conflicts), claims, len(ch.Conflicts), len(ch.InSync), n-creates, len(ch.Refused))
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				w.plan(desiredFrom, calculate)
			}
		})
	}
}
