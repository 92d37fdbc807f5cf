package lab

import (
	"net/netip"
	"strings"
	"testing"
)

func twoHostMatrix() *Matrix {
	c0 := Endpoint{Kind: Container, Host: 0, IP: netip.MustParseAddr("10.0.0.2")}
	c1 := Endpoint{Kind: Container, Host: 1, IP: netip.MustParseAddr("10.1.0.2")}
	h0 := Endpoint{Kind: HostNS, Host: 0, IP: netip.MustParseAddr("192.168.1.196")}
	h1 := Endpoint{Kind: HostNS, Host: 1, IP: netip.MustParseAddr("192.168.1.197")}
	return NewMatrix([]Endpoint{c0, c1}, []Endpoint{h0, h1})
}

func TestMatrixProbes(t *testing.T) {
	m := twoHostMatrix()
	ps := m.Probes()
	// 4 rows x 2 columns, minus each container to itself.
	if len(ps) != 6 {
		t.Fatalf("%d probes, want 6: %+v", len(ps), ps)
	}
	for _, p := range ps {
		if p.From == p.To {
			t.Errorf("probe from %s to itself", p.From.Label())
		}
	}
	if _, total := m.CrossHost(); total != 4 {
		t.Errorf("cross-host cells = %d, want 4 (c0->c1, c1->c0, h0->c1, h1->c0)", total)
	}
}

func TestMatrixOutcomes(t *testing.T) {
	sameHost := func(from, to Endpoint) bool { return from.Host == to.Host }
	all := func(Endpoint, Endpoint) bool { return true }
	tests := []struct {
		name      string
		reachable func(from, to Endpoint) bool // what the probes found
		full      bool
		cross     int
		wantAll   int // mismatches against "everything reachable"
		wantSame  int // mismatches against "same host only"
	}{
		{"nothing", func(Endpoint, Endpoint) bool { return false }, false, 0, 6, 2},
		{"same host only", sameHost, false, 0, 4, 0},
		{"everything", all, true, 4, 0, 4},
		{"one way broken", func(from, to Endpoint) bool { return !(from.Kind == Container && from.Host == 1 && to.Host == 0) }, false, 3, 1, 3},
	}
	for _, tc := range tests {
		m := twoHostMatrix()
		for _, p := range m.Probes() {
			m.Set(p.Row, p.Col, tc.reachable(p.From, p.To))
		}
		if m.Full() != tc.full {
			t.Errorf("%s: Full() = %v, want %v", tc.name, m.Full(), tc.full)
		}
		if ok, _ := m.CrossHost(); ok != tc.cross {
			t.Errorf("%s: %d cross-host reachable, want %d", tc.name, ok, tc.cross)
		}
		if got := len(m.Mismatches(all)); got != tc.wantAll {
			t.Errorf("%s: %d mismatches against full, want %d: %v", tc.name, got, tc.wantAll, m.Mismatches(all))
		}
		if got := len(m.Mismatches(sameHost)); got != tc.wantSame {
			t.Errorf("%s: %d mismatches against same-host-only, want %d", tc.name, got, tc.wantSame)
		}
	}
}

func TestMatrixUnprobedIsNotFull(t *testing.T) {
	m := twoHostMatrix()
	if m.Full() {
		t.Fatal("an unmeasured matrix reports full")
	}
	bad := m.Mismatches(func(Endpoint, Endpoint) bool { return false })
	if len(bad) != 6 || !strings.Contains(bad[0], "not probed") {
		t.Errorf("mismatches of an unmeasured matrix = %v, want 6 'not probed'", bad)
	}
}

func TestMatrixString(t *testing.T) {
	m := twoHostMatrix()
	for _, p := range m.Probes() {
		m.Set(p.Row, p.Col, p.From.Host == p.To.Host)
	}
	s := m.String()
	for _, want := range []string{
		"from \\ to", "container0 10.0.0.2", "host1 192.168.1.197",
		"ok (same host)", "FAIL", "·",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("matrix rendering lacks %q:\n%s", want, s)
		}
	}
	if lines := strings.Split(strings.TrimSpace(s), "\n"); len(lines) != 5 {
		t.Errorf("matrix rendering has %d lines, want header + 4 rows:\n%s", len(lines), s)
	}
}
