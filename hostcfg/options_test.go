package hostcfg

import (
	"net/netip"
	"strings"
	"testing"
)

func validOptions() Options {
	return Options{
		Cluster:     "default",
		Subnets:     []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24")},
		ClusterCIDR: netip.MustParsePrefix("10.0.0.0/8"),
		VPCCIDRs:    []netip.Prefix{netip.MustParsePrefix("192.168.0.0/16")},
	}
}

func TestOptionsValidate(t *testing.T) {
	p := netip.MustParsePrefix
	tests := []struct {
		name string
		edit func(*Options)
		want string // substring of the error; "" means valid
	}{
		{"valid", func(*Options) {}, ""},
		{"no VPC CIDRs is fine", func(o *Options) { o.VPCCIDRs = nil }, ""},
		{"duplicate subnets are fine", func(o *Options) { o.Subnets = append(o.Subnets, o.Subnets[0]) }, ""},
		{"empty cluster", func(o *Options) { o.Cluster = "" }, `Cluster = "" is invalid`},
		{"cluster with space", func(o *Options) { o.Cluster = "a b" }, `Cluster = "a b" is invalid`},
		{"cluster with quote", func(o *Options) { o.Cluster = `a"b` }, `Cluster = "a\"b" is invalid`},
		{"cluster too long", func(o *Options) { o.Cluster = strings.Repeat("a", 41) }, "expected 1-40 lowercase letters"},
		{"cluster with capitals", func(o *Options) { o.Cluster = "Prod" }, `Cluster = "Prod" is invalid`},
		{"cluster CIDR unset", func(o *Options) { o.ClusterCIDR = netip.Prefix{} }, "ClusterCIDR is not set"},
		{"cluster CIDR IPv6", func(o *Options) { o.ClusterCIDR = p("fd00::/8") }, "ClusterCIDR = fd00::/8 is not IPv4"},
		{"cluster CIDR /0", func(o *Options) { o.ClusterCIDR = p("0.0.0.0/0") }, "ClusterCIDR = 0.0.0.0/0 is too broad"},
		{"cluster CIDR host bits", func(o *Options) { o.ClusterCIDR = p("10.0.0.1/8") }, "ClusterCIDR = 10.0.0.1/8 has host bits set; expected the network address 10.0.0.0/8"},
		{"no subnets", func(o *Options) { o.Subnets = nil }, "Subnets is empty"},
		{"subnet host bits", func(o *Options) { o.Subnets[0] = p("10.0.0.1/24") }, "Subnets[0] = 10.0.0.1/24 has host bits set"},
		{"subnet outside cluster", func(o *Options) { o.Subnets[0] = p("172.17.0.0/16") }, "Subnets[0] = 172.17.0.0/16 is outside ClusterCIDR 10.0.0.0/8"},
		{"subnet larger than cluster", func(o *Options) { o.ClusterCIDR = p("10.0.0.0/25") }, "Subnets[0] = 10.0.0.0/24 is outside ClusterCIDR 10.0.0.0/25"},
		{"subnet overlaps VPC", func(o *Options) { o.VPCCIDRs = []netip.Prefix{p("10.0.0.0/16")} }, "Subnets[0] = 10.0.0.0/24 overlaps VPCCIDRs[0] = 10.0.0.0/16"},
		{"subnets overlap", func(o *Options) { o.Subnets = append(o.Subnets, p("10.0.0.0/16")) }, "Subnets[1] = 10.0.0.0/16 overlaps Subnets[0] = 10.0.0.0/24"},
		{"VPC CIDR host bits", func(o *Options) { o.VPCCIDRs[0] = p("192.168.1.1/16") }, "VPCCIDRs[0] = 192.168.1.1/16 has host bits set"},
		{"relative proc", func(o *Options) { o.ProcSys = "proc/sys" }, `ProcSys = "proc/sys" is not absolute`},
		{"relative state", func(o *Options) { o.StateDir = "run" }, `StateDir = "run" is not absolute`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := validOptions()
			tt.edit(&o)
			err := o.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}

func TestWithDefaults(t *testing.T) {
	p := netip.MustParsePrefix
	o := Options{Subnets: []netip.Prefix{p("10.9.0.0/24"), p("10.0.0.0/24"), p("10.9.0.0/24")}}.withDefaults()
	if o.ProcSys != DefaultProcSys || o.StateDir != DefaultStateDir {
		t.Errorf("paths = %q, %q; want defaults", o.ProcSys, o.StateDir)
	}
	if got := prefixesString(o.Subnets); got != "10.0.0.0/24 10.9.0.0/24" {
		t.Errorf("subnets = %s; want sorted and unique", got)
	}
}

func prefixesString(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, " ")
}
