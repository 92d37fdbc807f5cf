package doctor

import (
	"net/netip"
	"reflect"
	"testing"

	"github.com/vpcroute/vpcroute/reconciler"
)

func TestFreeSubnet(t *testing.T) {
	f := healthy()
	if p, ok := freeSubnet(f, 24); !ok || p != pfx("10.0.1.0/24") {
		t.Errorf("freeSubnet /24 = %s %v", p, ok)
	}
	if p, ok := freeSubnet(f, 16); !ok || p != pfx("10.3.0.0/16") {
		t.Errorf("freeSubnet /16 = %s %v", p, ok) // 10.0-2.0.0/16 hold the three hosts
	}
	f.ClusterCIDR = pfx("10.2.0.0/24")
	if p, ok := freeSubnet(f, 24); ok {
		t.Errorf("freeSubnet in a full cluster CIDR = %s", p)
	}
}

func TestReturnSources(t *testing.T) {
	f := healthy()
	if got := returnSources(f); !reflect.DeepEqual(got, []netip.Addr{addr("10.0.0.1"), addr("10.1.0.1")}) {
		t.Errorf("with claims: %v", got)
	}
	f.Others.Claims = nil
	f.Subnets.Local = []netip.Prefix{pfx("10.0.0.0/24"), pfx("10.0.1.0/24")}
	if got := returnSources(f); !reflect.DeepEqual(got, []netip.Addr{addr("10.0.2.1")}) {
		t.Errorf("without claims: %v", got)
	}
	f.Subnets.Local = []netip.Prefix{pfx("10.0.0.0/8")}
	if got := returnSources(f); got != nil {
		t.Errorf("cluster all local: %v", got)
	}
}

func TestRegistryClaims(t *testing.T) {
	hosts := []reconciler.Host{
		{Instance: "i-aaa", Target: hostA, Subnets: []reconciler.Claim{{Subnet: pfx("10.0.0.0/24")}}},
		{Instance: "i-ccc", Target: self, Subnets: []reconciler.Claim{{Subnet: local}}},
	}
	got := registryClaims(hosts, "i-ccc")
	want := []Claim{{Instance: "i-aaa", Target: hostA, Subnet: pfx("10.0.0.0/24")}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("registryClaims = %v", got)
	}
}

func TestDialAddr(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:9712":           "127.0.0.1:9712",
		"http://10.0.0.1:9712/x":   "10.0.0.1:9712",
		"https://status.example/":  "status.example:443",
		"http://status.example":    "status.example:80",
		"http://[::1]:9712/status": "[::1]:9712",
		"http:///nohost":           "",
	} {
		if got := dialAddr(in); got != want {
			t.Errorf("dialAddr(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSummarize(t *testing.T) {
	if s := Summarize([]Check{{Result: Pass}, {Result: Skip}}); s.Result != Pass || s.Pass != 1 || s.Skip != 1 {
		t.Errorf("%+v", s)
	}
	if s := Summarize([]Check{{Result: Pass}, {Result: Warn}}); s.Result != Warn {
		t.Errorf("%+v", s)
	}
}
