package cloud

import (
	"net/netip"
	"testing"
)

func TestPrefixContains(t *testing.T) {
	p := netip.MustParsePrefix
	for _, tc := range []struct {
		outer, inner netip.Prefix
		want         bool
	}{
		{p("10.0.0.0/8"), p("10.1.0.0/24"), true},
		{p("10.0.0.0/8"), p("10.0.0.0/8"), true},
		{p("10.0.0.0/8"), p("10.255.255.255/32"), true},
		{p("0.0.0.0/0"), p("192.168.1.0/24"), true},
		{p("10.1.0.0/24"), p("10.0.0.0/8"), false},  // inner is wider
		{p("10.0.0.0/8"), p("11.0.0.0/24"), false},  // outside
		{p("10.0.0.0/16"), p("10.0.0.0/15"), false}, // same start, wider
		{p("10.0.0.0/8"), p("fd00::/64"), false},    // other family
		{p("::/0"), p("10.0.0.0/8"), false},
		{p("fd00::/8"), p("fd00:1::/64"), true},
		{netip.Prefix{}, p("10.0.0.0/8"), false},
		{p("10.0.0.0/8"), netip.Prefix{}, false},
		{netip.Prefix{}, netip.Prefix{}, false},
	} {
		if got := PrefixContains(tc.outer, tc.inner); got != tc.want {
			t.Errorf("PrefixContains(%v, %v) = %v; want %v", tc.outer, tc.inner, got, tc.want)
		}
	}
}
