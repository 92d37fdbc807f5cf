package reconciler

import (
	"net/netip"
	"strings"
	"testing"
)

func TestValidateClusterCIDR(t *testing.T) {
	vpc := []netip.Prefix{pfx("192.168.0.0/16")}
	tests := []struct {
		name    string
		cidr    netip.Prefix
		vpcCIDR []netip.Prefix
		want    string // exact error; "" = valid
	}{
		{"private /8, VPC unknown", pfx("10.0.0.0/8"), nil, ""},
		{"private /8 outside the VPC", pfx("10.0.0.0/8"), vpc, ""},
		{"/12 outside the VPC", pfx("172.16.0.0/12"), vpc, ""},
		{"long prefix", pfx("10.200.0.0/24"), vpc, ""},
		// A cluster around the VPC is allowed: the plan refuses subnets
		// that overlap the VPC, and NAT-exempt traffic to the VPC still
		// comes back through the routes.
		{"contains the VPC", pfx("192.0.0.0/8"), vpc, ""},
		{"next to the VPC", pfx("192.169.0.0/16"), vpc, ""},

		{"unset", netip.Prefix{}, nil,
			`cluster-cidr is not set: expected an IPv4 CIDR such as 10.0.0.0/8`},
		{"ipv6", pfx("fd00::/8"), nil,
			`cluster-cidr "fd00::/8" is invalid: expected an IPv4 CIDR such as 10.0.0.0/8`},
		{"host bits", netip.PrefixFrom(netip.MustParseAddr("10.0.0.1"), 8), nil,
			`cluster-cidr "10.0.0.1/8" is invalid: host bits are set; expected 10.0.0.0/8`},
		{"everything", pfx("0.0.0.0/0"), nil,
			`cluster-cidr "0.0.0.0/0" is too broad: expected /8 or longer, e.g. 10.0.0.0/8, 172.16.0.0/12`},
		{"half the Internet", pfx("0.0.0.0/1"), vpc,
			`cluster-cidr "0.0.0.0/1" is too broad: expected /8 or longer, e.g. 10.0.0.0/8, 172.16.0.0/12`},
		{"/7", pfx("10.0.0.0/7"), nil,
			`cluster-cidr "10.0.0.0/7" is too broad: expected /8 or longer, e.g. 10.0.0.0/8, 172.16.0.0/12`},
		{"the VPC itself", pfx("192.168.0.0/16"), vpc,
			`cluster-cidr "192.168.0.0/16" lies inside the VPC CIDR 192.168.0.0/16: expected a range outside the VPC, e.g. 10.0.0.0/8`},
		{"inside the VPC", pfx("192.168.128.0/17"), vpc,
			`cluster-cidr "192.168.128.0/17" lies inside the VPC CIDR 192.168.0.0/16: expected a range outside the VPC, e.g. 10.0.0.0/8`},
		{"inside a secondary VPC CIDR", pfx("10.5.0.0/16"), []netip.Prefix{pfx("192.168.0.0/16"), pfx("10.0.0.0/8")},
			`cluster-cidr "10.5.0.0/16" lies inside the VPC CIDR 10.0.0.0/8: expected a range outside the VPC, e.g. 172.16.0.0/12`},
		{"no private range left", pfx("10.1.0.0/16"), []netip.Prefix{pfx("10.0.0.0/8"), pfx("172.16.0.0/12"), pfx("192.168.0.0/16")},
			`cluster-cidr "10.1.0.0/16" lies inside the VPC CIDR 10.0.0.0/8: expected a range outside the VPC`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateClusterCIDR(tt.cidr, tt.vpcCIDR)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Fatalf("ValidateClusterCIDR(%s, %v) = %q\nwant %q", tt.cidr, tt.vpcCIDR, got, tt.want)
			}
			if strings.Contains(got, "\n") {
				t.Fatalf("error has several lines: %q", got)
			}
		})
	}
}
