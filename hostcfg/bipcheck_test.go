package hostcfg

import (
	"net/netip"
	"testing"
)

func TestBIPNotRunning(t *testing.T) {
	p := netip.MustParsePrefix
	tests := []struct {
		name    string
		bip     netip.Prefix
		running []netip.Prefix
		want    string
	}{
		{"no bip set", netip.Prefix{}, []netip.Prefix{p("172.17.0.0/16")}, ""},
		{"running", p("10.1.196.1/24"), []netip.Prefix{p("10.1.196.0/24")}, ""},
		{"running beside a network", p("10.1.196.1/24"), []netip.Prefix{p("10.9.0.0/24"), p("10.1.196.0/24")}, ""},
		{"Docker not restarted", p("10.1.196.1/24"), []netip.Prefix{p("172.17.0.0/16")},
			"daemon.json sets bip 10.1.196.1/24 (subnet 10.1.196.0/24) but Docker runs 172.17.0.0/16: restart Docker to move its bridge to the allocated subnet"},
		{"another length", p("10.1.196.1/24"), []netip.Prefix{p("10.1.196.0/25")},
			"daemon.json sets bip 10.1.196.1/24 (subnet 10.1.196.0/24) but Docker runs 10.1.196.0/25: restart Docker to move its bridge to the allocated subnet"},
		{"no bridge at all", p("10.1.196.1/24"), nil,
			"daemon.json sets bip 10.1.196.1/24 (subnet 10.1.196.0/24) but Docker runs no bridge subnet: restart Docker to move its bridge to the allocated subnet"},
	}
	for _, tt := range tests {
		if got := BIPNotRunning(tt.bip, tt.running); got != tt.want {
			t.Errorf("%s: got %q\nwant %q", tt.name, got, tt.want)
		}
	}
}
