package reconciler

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"testing"

	"github.com/vpcroute/vpcroute/cloud"
)

// The plan's indexes must change its cost, never its answer: Calculate and
// DesiredFromHosts are compared with the quadratic reference
// (plan_reference_test.go) on random inputs built to collide a lot.

// randomPlan draws prefixes from a small part of 10.0.0.0/8 at a few
// lengths, so that exact matches, nesting and overlaps are common, with
// now and then an unmasked, IPv6, IPv4-mapped or invalid prefix.
type randomPlan struct{ r *rand.Rand }

var randomTargets = []cloud.Target{
	{Kind: cloud.TargetInstance, ID: "i-a"}, {Kind: cloud.TargetInstance, ID: "i-b"},
	{Kind: cloud.TargetInstance, ID: "i-c"}, {Kind: "VpnGateway", ID: "vpn-1"},
	{Kind: "NatGateway", ID: "ngw-1"}, {Kind: cloud.TargetInstance, ID: ""},
}

func (g randomPlan) prefix() netip.Prefix {
	r := g.r
	switch r.IntN(40) {
	case 0:
		return netip.Prefix{}
	case 1:
		return netip.MustParsePrefix("fd00::/8")
	case 2:
		return netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, 0, 0}).Unmap(), 8)
	case 3:
		return netip.PrefixFrom(netip.AddrFrom16(netip.AddrFrom4([4]byte{10, 1, 0, 0}).As16()), 112)
	case 4:
		return netip.MustParsePrefix("192.168.0.0/16")
	case 5:
		return netip.MustParsePrefix("0.0.0.0/0")
	}
	lens := []int{8, 12, 14, 15, 16, 17, 20, 22, 23, 24, 24, 24, 25, 26, 32}
	bits := lens[r.IntN(len(lens))]
	a := netip.AddrFrom4([4]byte{10, byte(r.IntN(4)), byte(r.IntN(4) * 64), byte(r.IntN(2) * 128)})
	p := netip.PrefixFrom(a, bits)
	if r.IntN(15) != 0 {
		p = p.Masked()
	}
	return p
}

func (g randomPlan) target() cloud.Target { return randomTargets[g.r.IntN(len(randomTargets))] }

func (g randomPlan) prefixes(max int) []netip.Prefix {
	var ps []netip.Prefix
	for range g.r.IntN(max + 1) {
		ps = append(ps, g.prefix())
	}
	return ps
}

func (g randomPlan) entry(table string) cloud.Route {
	r := g.r
	e := cloud.Route{TableID: table, Destination: g.prefix(), Target: g.target(), Status: cloud.StatusAvailable,
		ID: fmt.Sprintf("rte-%d", r.IntN(1000))}
	switch r.IntN(6) {
	case 0, 1, 2:
		e.Cluster = "prod"
	case 3:
		e.Cluster = "staging"
	case 4:
		e.Name = "office"
	}
	if r.IntN(8) == 0 {
		e.System = true
	}
	return e
}

func (g randomPlan) input() PlanInput {
	r := g.r
	in := PlanInput{Cluster: "prod", ClusterCIDR: pfx("10.0.0.0/8"), Tables: map[string][]cloud.Route{}}
	switch r.IntN(10) {
	case 0:
		in.ClusterCIDR = netip.Prefix{}
	case 1:
		in.ClusterCIDR = pfx("10.0.0.0/14")
	case 2:
		in.ClusterCIDR = netip.MustParsePrefix("10.1.2.3/15")
	case 3:
		in.Cluster = ""
	}
	in.VPCCIDRs = g.prefixes(2)
	in.SubnetCIDRs = g.prefixes(3)
	if r.IntN(2) == 0 { // most VPCs are outside the cluster CIDR
		in.VPCCIDRs, in.SubnetCIDRs = []netip.Prefix{pfx("192.168.0.0/16")}, []netip.Prefix{pfx("192.168.1.0/24")}
	}
	for t := range 1 + r.IntN(3) {
		table := fmt.Sprintf("vtb-%d", t)
		var entries []cloud.Route
		for range r.IntN(25) {
			entries = append(entries, g.entry(table))
		}
		if len(entries) > 0 && r.IntN(3) == 0 { // a duplicate listing
			entries = append(entries, entries[r.IntN(len(entries))])
		}
		in.Tables[table] = entries
	}
	for range r.IntN(20) {
		in.Desired = append(in.Desired, Desired{Destination: g.prefix(), Target: g.target()})
	}
	if len(in.Desired) > 0 && r.IntN(3) == 0 {
		in.Desired = append(in.Desired, in.Desired[r.IntN(len(in.Desired))])
	}
	if r.IntN(3) == 0 {
		in.Scope = []cloud.Target{g.target()}
	}
	in.Policy = []Policy{PolicySync, PolicyUpsertOnly, nil}[r.IntN(3)]
	in.Replace = r.IntN(2) == 0
	in.AllowCarveOut = r.IntN(3) == 0
	return in
}

func (g randomPlan) hosts() ([]Host, Routed) {
	r := g.r
	var hosts []Host
	routed := Routed{}
	for range r.IntN(12) {
		id := fmt.Sprintf("i-%d", r.IntN(6))
		h := Host{Instance: id, Target: cloud.Target{Kind: cloud.TargetInstance, ID: id}, Order: int64(r.IntN(4))}
		if r.IntN(10) == 0 {
			h.Target.ID = ""
		}
		for range r.IntN(5) {
			c := Claim{Subnet: g.prefix()}
			h.Subnets = append(h.Subnets, c)
			if r.IntN(4) == 0 {
				routed[Desired{Destination: c.Subnet, Target: h.Target}] = true
			}
		}
		if len(h.Subnets) > 0 && r.IntN(4) == 0 {
			h.Subnets = append(h.Subnets, h.Subnets[0])
		}
		hosts = append(hosts, h)
	}
	return hosts, routed
}

func dump(v any) string {
	b, _ := json.MarshalIndent(v, "", " ")
	return string(b)
}

func TestCalculateMatchesReference(t *testing.T) {
	g := randomPlan{rand.New(rand.NewPCG(14, 3))}
	kinds := map[string]int{}
	for i := range 5000 {
		in := g.input()
		got, want := Calculate(in), planReference(in)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("case %d: Calculate differs from the reference\ninput: %s\ngot:  %s\nwant: %s", i, dump(in), dump(got), dump(want))
		}
		// The old plan built every list by appending, so an empty one was
		// nil (null in `vpcroute plan -o json`); sizing a list ahead must
		// not change that.
		for name, n := range map[string]bool{"create": got.Create != nil && len(got.Create) == 0,
			"delete": got.Delete != nil && len(got.Delete) == 0, "inSync": got.InSync != nil && len(got.InSync) == 0,
			"conflicts": got.Conflicts != nil && len(got.Conflicts) == 0, "refused": got.Refused != nil && len(got.Refused) == 0} {
			if n {
				t.Fatalf("case %d: %s is empty but not nil", i, name)
			}
		}
		for _, c := range want.Conflicts {
			kinds[c.Kind]++
		}
		kinds["create"] += len(want.Create)
		kinds["delete"] += len(want.Delete)
		kinds["refused"] += len(want.Refused)
		kinds["inSync"] += len(want.InSync)
	}
	// The inputs must reach every outcome, or the comparison proves little.
	for _, k := range []string{ConflictOccupied, ConflictShadowed, ConflictCarveOut, ConflictWithheld, "create", "delete", "refused", "inSync"} {
		if kinds[k] < 50 {
			t.Errorf("only %d %s outcomes in the random cases; the generator needs more of them", kinds[k], k)
		}
	}
	t.Logf("outcomes compared: %v", kinds)
}

func TestDesiredFromHostsMatchesReference(t *testing.T) {
	g := randomPlan{rand.New(rand.NewPCG(14, 5))}
	var claimConflicts, desired int
	for i := range 5000 {
		hosts, routed := g.hosts()
		gotD, gotC := DesiredFromHosts(hosts, routed)
		wantD, wantC := desiredFromHostsReference(hosts, routed)
		if !reflect.DeepEqual(gotD, wantD) || !reflect.DeepEqual(gotC, wantC) {
			t.Fatalf("case %d: DesiredFromHosts differs from the reference\nhosts: %s\nrouted: %v\ngot:  %s\n      %s\nwant: %s\n      %s",
				i, dump(hosts), routed, dump(gotD), dump(gotC), dump(wantD), dump(wantC))
		}
		claimConflicts += len(wantC)
		desired += len(wantD)
	}
	if claimConflicts < 1000 || desired < 1000 {
		t.Errorf("only %d claim conflicts and %d desired routes in the random cases", claimConflicts, desired)
	}
}
