package allocate

import (
	"net/netip"
	"strings"
	"testing"
)

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }

func pfxs(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = pfx(s)
	}
	return out
}

func TestDerive(t *testing.T) {
	tests := []struct {
		name     string
		ip       string
		vpc      []netip.Prefix
		vswitch  []netip.Prefix
		cluster  string
		bits     int
		want     string
		wantErrs []string
	}{
		{"vpc /16, cluster /8, /24", "192.168.1.196", pfxs("192.168.0.0/16"), pfxs("192.168.1.0/24"), "10.0.0.0/8", 24, "10.1.196.0/24", nil},
		{"first address of the VPC", "192.168.0.0", pfxs("192.168.0.0/16"), nil, "10.0.0.0/8", 24, "10.0.0.0/24", nil},
		{"last address of the VPC", "192.168.255.255", pfxs("192.168.0.0/16"), nil, "10.0.0.0/8", 24, "10.255.255.0/24", nil},
		{"vpc /20, cluster /12, /24 fits exactly", "172.16.15.255", pfxs("172.16.0.0/20"), nil, "10.0.0.0/12", 24, "10.15.255.0/24", nil},
		{"vpc /20, cluster /12, /26", "172.16.15.255", pfxs("172.16.0.0/20"), nil, "10.0.0.0/12", 26, "10.3.255.192/26", nil},
		{"vpc /20, cluster /12, /26, first", "172.16.0.0", pfxs("172.16.0.0/20"), nil, "10.0.0.0/12", 26, "10.0.0.0/26", nil},
		// Secondary CIDRs are laid end to end in address order: 10.1.0.0/20
		// first (offsets 0-4095), then 172.16.0.0/16; the cluster's
		// subnets inside 10.1.0.0/20 (indices 1024-1087 at /26) are skipped.
		{"secondary CIDR, in the cluster", "10.1.0.7", pfxs("172.16.0.0/16", "10.1.0.0/20"), nil, "10.0.0.0/8", 26, "10.0.1.192/26", nil},
		{"secondary CIDR, last index before the skipped range", "10.1.3.255", pfxs("172.16.0.0/16", "10.1.0.0/20"), nil, "10.0.0.0/8", 26, "10.0.255.192/26", nil},
		{"secondary CIDR, first index after the skipped range", "10.1.4.0", pfxs("172.16.0.0/16", "10.1.0.0/20"), nil, "10.0.0.0/8", 26, "10.1.16.0/26", nil},
		{"primary after the secondary", "172.16.0.0", pfxs("172.16.0.0/16", "10.1.0.0/20"), nil, "10.0.0.0/8", 26, "10.4.16.0/26", nil},
		{"order of the VPC CIDRs does not matter", "172.16.0.0", pfxs("10.1.0.0/20", "172.16.0.0/16"), nil, "10.0.0.0/8", 26, "10.4.16.0/26", nil},
		// A cluster CIDR containing the VPC: the VPC's subnets are skipped.
		{"cluster contains the VPC, first", "10.0.0.0", pfxs("10.0.0.0/16"), nil, "10.0.0.0/8", 25, "10.1.0.0/25", nil},
		{"cluster contains the VPC, last", "10.0.255.255", pfxs("10.0.0.0/16"), nil, "10.0.0.0/8", 25, "10.128.255.128/25", nil},
		{"cluster /12 too small for a /16 VPC at /24", "192.168.1.196", pfxs("192.168.0.0/16"), nil, "10.0.0.0/12", 24, "",
			[]string{"cluster-cidr 10.0.0.0/12 is too small", "holds 4096 /24 subnets", "192.168.0.0/16 has 65536 addresses",
				"a cluster CIDR of /8 (10.0.0.0/8)", "--host-subnet-size /28", "--etcd-endpoints"}},
		{"cluster containing the VPC is one /16 short", "10.0.1.1", pfxs("10.0.0.0/16"), nil, "10.0.0.0/8", 24, "",
			[]string{"holds 65280 /24 subnets", "has 65536 addresses", "--host-subnet-size /25", "--etcd-endpoints"}},
		{"secondary CIDR makes it too small", "192.168.0.1", pfxs("192.168.0.0/16", "192.169.0.0/16"), nil, "10.0.0.0/8", 24, "",
			[]string{"192.168.0.0/16 + 192.169.0.0/16 has 131072 addresses", "--host-subnet-size /25"}},
		{"IP outside the VPC", "172.31.0.1", pfxs("192.168.0.0/16"), nil, "10.0.0.0/8", 24, "",
			[]string{"private IP 172.31.0.1 is in none of the VPC CIDRs 192.168.0.0/16"}},
		{"subnet larger than the cluster", "192.168.0.1", pfxs("192.168.0.0/16"), nil, "10.0.0.0/16", 12, "",
			[]string{"host-subnet-size /12 is invalid: expected /16 (the cluster CIDR 10.0.0.0/16) to /30"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Derive(Derived{PrivateIP: netip.MustParseAddr(tt.ip), VPCCIDRs: tt.vpc, SubnetCIDRs: tt.vswitch,
				Cluster: pfx(tt.cluster), Bits: tt.bits})
			if tt.wantErrs != nil {
				if err == nil {
					t.Fatalf("Derive = %s, want an error", got)
				}
				for _, w := range tt.wantErrs {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error is not one line: %q", err)
				}
				return
			}
			if err != nil || got.String() != tt.want {
				t.Fatalf("Derive = %s, %v; want %s", got, err, tt.want)
			}
		})
	}
}

// TestDeriveCollisionFree: every address of the VPC (primary and
// secondary) gets its own subnet, inside the cluster CIDR, clear of every
// VPC and vswitch CIDR, including a vswitch CIDR outside the VPC.
func TestDeriveCollisionFree(t *testing.T) {
	for _, tc := range []struct {
		vpc, vswitch []netip.Prefix
		cluster      string
		bits         int
	}{
		{pfxs("172.16.0.0/20", "10.1.0.0/22"), pfxs("172.16.1.0/24", "10.2.0.0/24"), "10.0.0.0/12", 26},
		{pfxs("10.0.0.0/20"), nil, "10.0.0.0/12", 26},
		{pfxs("192.168.0.0/16"), nil, "10.0.0.0/8", 24},
	} {
		d := Derived{VPCCIDRs: tc.vpc, SubnetCIDRs: tc.vswitch, Cluster: pfx(tc.cluster), Bits: tc.bits}
		seen := map[netip.Prefix]netip.Addr{}
		for _, v := range tc.vpc {
			for a := v.Addr(); v.Contains(a); a = a.Next() {
				d.PrivateIP = a
				p, err := Derive(d)
				if err != nil {
					t.Fatalf("%s: %v", a, err)
				}
				if prev, dup := seen[p]; dup {
					t.Fatalf("%s and %s both get %s", prev, a, p)
				}
				seen[p] = a
				if !d.Cluster.Contains(p.Addr()) || p.Bits() != tc.bits {
					t.Fatalf("%s gets %s, not a /%d of %s", a, p, tc.bits, d.Cluster)
				}
				if r, hit := Overlapping(p, append(tc.vpc, tc.vswitch...)); hit {
					t.Fatalf("%s gets %s, which overlaps %s", a, p, r)
				}
			}
		}
	}
}

func TestParseSizeAndBIP(t *testing.T) {
	for in, want := range map[string]int{"/24": 24, "26": 26, "/30": 30, "/8": 8} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "/31", "/7", "24x", "/-1"} {
		if _, err := ParseSize(in); err == nil || !strings.Contains(err.Error(), "host-subnet-size") {
			t.Errorf("ParseSize(%q) = %v, want an error naming host-subnet-size", in, err)
		}
	}
	if got := BIP(pfx("10.1.196.0/24")); got != "10.1.196.1/24" {
		t.Errorf("BIP = %s", got)
	}
}
