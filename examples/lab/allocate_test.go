package lab

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDeriveOffline: a lab without the simulator gives its hosts the
// subnets `vpcroute allocate --allocator derived` documents (192.168.1.196
// in the /16 VPC gets 10.1.196.0/24), distinct and clear of the VPC.
func TestDeriveOffline(t *testing.T) {
	l := &Lab{}
	seen := map[netip.Prefix]int{}
	for i := 0; i < MaxHosts; i++ {
		p, err := PlanHost(i)
		if err != nil {
			t.Fatal(err)
		}
		subnet, err := l.deriveOffline(&Host{HostPlan: p})
		if err != nil {
			t.Fatalf("host %d: %v", i, err)
		}
		want := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 1, byte(firstHostOctet + i), 0}), 24)
		if subnet != want {
			t.Errorf("host %d (%s): %s, want %s", i, p.IP, subnet, want)
		}
		if j, dup := seen[subnet]; dup {
			t.Errorf("hosts %d and %d both get %s", j, i, subnet)
		}
		seen[subnet] = i
		if !netip.MustParsePrefix(ClusterCIDR).Contains(subnet.Addr()) || netip.MustParsePrefix(VPCCIDR).Overlaps(subnet) {
			t.Errorf("host %d: %s must lie in the cluster CIDR and outside the VPC", i, subnet)
		}
	}
}

func TestReadBip(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, body, want, err string
	}{
		{"bip among other keys", `{"log-driver": "json-file", "bip": "10.1.196.1/24"}`, "10.1.196.1/24", ""},
		{"no bip", InitialDockerConfig, "", `has bip ""`},
		{"bip without length", `{"bip": "10.1.196.1"}`, "", `has bip "10.1.196.1"`},
		{"not JSON", `bip: 10.1.196.1/24`, "", "read bip: " + dir},
	}
	for i, tc := range tests {
		path := filepath.Join(dir, tc.name)
		if err := os.WriteFile(path, []byte(tc.body), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := ReadBip(path)
		switch {
		case tc.err == "" && (err != nil || got.String() != tc.want):
			t.Errorf("%d %s: %v, %v; want %s", i, tc.name, got, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%d %s: error %v, want one containing %q", i, tc.name, err, tc.err)
		}
	}
}
