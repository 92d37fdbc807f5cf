package reconciler

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/cloud"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func host(id string, order int64, claims ...any) Host {
	h := Host{Instance: id, Target: cloud.Target{Kind: cloud.TargetInstance, ID: id}, Order: order, LastSeen: t0}
	for i := 0; i < len(claims); i += 2 {
		var since time.Duration
		switch v := claims[i+1].(type) {
		case time.Duration:
			since = v
		case int: // an untyped 0
			since = time.Duration(v)
		}
		h.Subnets = append(h.Subnets, Claim{Subnet: pfx(claims[i].(string)), Since: t0.Add(since)})
	}
	return h
}

func desiredSummary(ds []Desired, cs []ClaimConflict) string {
	var parts []string
	for _, d := range ds {
		parts = append(parts, d.Destination.String()+">"+d.Target.ID)
	}
	for _, c := range cs {
		parts = append(parts, fmt.Sprintf("!%s:%s(held by %s:%s)", c.Refused.Instance, c.Refused.Subnet, c.Holder.Instance, c.Holder.Subnet))
	}
	return strings.Join(parts, " ")
}

func TestDesiredFromHosts(t *testing.T) {
	routedTo := func(subnet, instance string) Routed {
		return Routed{{Destination: pfx(subnet), Target: cloud.Target{Kind: cloud.TargetInstance, ID: instance}}: true}
	}
	tests := []struct {
		name   string
		hosts  []Host
		routed Routed
		want   string
	}{
		{"no hosts", nil, nil, ""},
		{"one route per claim", []Host{host("i-a", 1, "10.1.0.0/24", 0), host("i-b", 2, "10.2.0.0/24", 0, "10.3.0.0/24", 0)}, nil,
			"10.1.0.0/24>i-a 10.2.0.0/24>i-b 10.3.0.0/24>i-b"},
		{"same subnet, neither routed: the host registered first wins", []Host{host("i-a", 1, "10.1.0.0/24", time.Minute), host("i-b", 2, "10.1.0.0/24", 0)}, nil,
			"10.1.0.0/24>i-a !i-b:10.1.0.0/24(held by i-a:10.1.0.0/24)"},
		{"a self-reported earlier time changes nothing", []Host{host("i-a", 1, "10.1.0.0/24", 0), host("i-b", 2, "10.1.0.0/24", -30*365*24*time.Hour)}, nil,
			"10.1.0.0/24>i-a !i-b:10.1.0.0/24(held by i-a:10.1.0.0/24)"},
		{"the routed claim wins over an earlier registration", []Host{host("i-a", 1, "10.1.0.0/24", -time.Hour), host("i-b", 2, "10.1.0.0/24", 0)}, routedTo("10.1.0.0/24", "i-b"),
			"10.1.0.0/24>i-b !i-a:10.1.0.0/24(held by i-b:10.1.0.0/24)"},
		{"a route to another target does not count for this host", []Host{host("i-a", 1, "10.1.0.0/24", 0), host("i-b", 2, "10.1.0.0/24", 0)}, routedTo("10.1.0.0/24", "i-zzz"),
			"10.1.0.0/24>i-a !i-b:10.1.0.0/24(held by i-a:10.1.0.0/24)"},
		{"overlap, not equal: the routed one wins", []Host{host("i-a", 1, "10.1.0.0/16", 0), host("i-b", 2, "10.1.2.0/24", 0)}, routedTo("10.1.2.0/24", "i-b"),
			"10.1.2.0/24>i-b !i-a:10.1.0.0/16(held by i-b:10.1.2.0/24)"},
		{"same order: instance ID decides", []Host{host("i-b", 0, "10.1.0.0/24", 0), host("i-a", 0, "10.1.0.0/24", 0)}, nil,
			"10.1.0.0/24>i-a !i-b:10.1.0.0/24(held by i-a:10.1.0.0/24)"},
		{"the same claim twice is one", []Host{host("i-a", 1, "10.1.0.0/24", 0, "10.1.0.0/24", 0)}, nil, "10.1.0.0/24>i-a"},
		{"host without target claims nothing", []Host{{Instance: "i-x", Subnets: []Claim{{Subnet: pfx("10.1.0.0/24")}}}}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := desiredSummary(DesiredFromHosts(tt.hosts, tt.routed)); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestDesiredIsStable: the winner does not depend on the order hosts are
// listed in, so two leaders (or one leader twice) never flap a route.
func TestDesiredIsStable(t *testing.T) {
	a, b := host("i-a", 5, "10.1.0.0/24", time.Second), host("i-b", 9, "10.1.0.0/24", 0)
	for _, routed := range []Routed{nil, {{Destination: pfx("10.1.0.0/24"), Target: b.Target}: true}} {
		x := desiredSummary(DesiredFromHosts([]Host{a, b}, routed))
		y := desiredSummary(DesiredFromHosts([]Host{b, a}, routed))
		if x != y {
			t.Fatalf("order-dependent: %q vs %q", x, y)
		}
	}
}

func TestRoutedIn(t *testing.T) {
	tables := map[string][]cloud.Route{
		"vtb-1": {owned("vtb-1", "10.1.0.0/24", iA), foreign("vtb-1", "10.2.0.0/24", vpn, "office")},
		"vtb-2": {owned("vtb-2", "10.3.0.0/24", iB)},
	}
	got := RoutedIn(tables, "prod")
	want := Routed{{Destination: pfx("10.1.0.0/24"), Target: iA}: true, {Destination: pfx("10.3.0.0/24"), Target: iB}: true}
	if len(got) != len(want) {
		t.Fatalf("RoutedIn = %v, want %v", got, want)
	}
	for k := range want {
		if !got[k] {
			t.Errorf("missing %v", k)
		}
	}
}
