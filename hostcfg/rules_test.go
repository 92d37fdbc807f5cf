package hostcfg

import (
	"net/netip"
	"strings"
	"testing"
)

func TestDesiredRules(t *testing.T) {
	p := netip.MustParsePrefix
	tests := []struct {
		name      string
		opts      Options
		forward   []string
		nat       []string
		wantTagIn string
	}{
		{
			name: "one subnet, one VPC CIDR",
			opts: Options{Cluster: "default", ClusterCIDR: p("10.0.0.0/8"),
				Subnets: []netip.Prefix{p("10.0.0.0/24")}, VPCCIDRs: []netip.Prefix{p("192.168.0.0/16")}},
			forward: []string{
				`-s 10.0.0.0/24 -m comment --comment vpcroute:default -j RETURN`,
				`-s 10.0.0.0/8 -d 10.0.0.0/24 -m comment --comment vpcroute:default -j ACCEPT`,
				`-s 192.168.0.0/16 -d 10.0.0.0/24 -m comment --comment vpcroute:default -j ACCEPT`,
			},
			nat: []string{`-s 10.0.0.0/24 -d 10.0.0.0/8 -m comment --comment vpcroute:default -j ACCEPT`},
		},
		{
			name: "two subnets and two VPC CIDRs in any order",
			opts: Options{Cluster: "prod", ClusterCIDR: p("10.0.0.0/8"),
				Subnets:  []netip.Prefix{p("10.9.0.0/24"), p("10.1.0.0/24")},
				VPCCIDRs: []netip.Prefix{p("192.168.0.0/16"), p("172.16.0.0/12")}},
			forward: []string{
				`-s 10.1.0.0/24 -m comment --comment vpcroute:prod -j RETURN`,
				`-s 10.9.0.0/24 -m comment --comment vpcroute:prod -j RETURN`,
				`-s 10.0.0.0/8 -d 10.1.0.0/24 -m comment --comment vpcroute:prod -j ACCEPT`,
				`-s 172.16.0.0/12 -d 10.1.0.0/24 -m comment --comment vpcroute:prod -j ACCEPT`,
				`-s 192.168.0.0/16 -d 10.1.0.0/24 -m comment --comment vpcroute:prod -j ACCEPT`,
				`-s 10.0.0.0/8 -d 10.9.0.0/24 -m comment --comment vpcroute:prod -j ACCEPT`,
				`-s 172.16.0.0/12 -d 10.9.0.0/24 -m comment --comment vpcroute:prod -j ACCEPT`,
				`-s 192.168.0.0/16 -d 10.9.0.0/24 -m comment --comment vpcroute:prod -j ACCEPT`,
			},
			nat: []string{
				`-s 10.1.0.0/24 -d 10.0.0.0/8 -m comment --comment vpcroute:prod -j ACCEPT`,
				`-s 10.9.0.0/24 -d 10.0.0.0/8 -m comment --comment vpcroute:prod -j ACCEPT`,
			},
		},
		{
			name: "host route subnet",
			opts: Options{Cluster: "c", ClusterCIDR: p("10.0.0.0/8"), Subnets: []netip.Prefix{p("10.0.0.5/32")}},
			forward: []string{
				`-s 10.0.0.5/32 -m comment --comment vpcroute:c -j RETURN`,
				`-s 10.0.0.0/8 -d 10.0.0.5/32 -m comment --comment vpcroute:c -j ACCEPT`,
			},
			nat: []string{`-s 10.0.0.5/32 -d 10.0.0.0/8 -m comment --comment vpcroute:c -j ACCEPT`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.opts.Validate(); err != nil {
				t.Fatalf("test options invalid: %v", err)
			}
			rs := desiredRules(tt.opts.withDefaults())
			if got, want := specsString(rs.forward), strings.Join(tt.forward, "\n"); got != want {
				t.Errorf("forward rules:\n%s\nwant:\n%s", got, want)
			}
			if got, want := specsString(rs.nat), strings.Join(tt.nat, "\n"); got != want {
				t.Errorf("nat rules:\n%s\nwant:\n%s", got, want)
			}
			for _, r := range append(rs.forward, rs.nat...) {
				if !r.ownedBy(Tag(tt.opts.Cluster)) {
					t.Errorf("rule %s does not carry the tag", r)
				}
			}
		})
	}
}

func specsString(ss []spec) string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.String()
	}
	return strings.Join(out, "\n")
}
