package allocate

import (
	"math/rand/v2"
	"net/netip"
	"testing"
)

func TestPick(t *testing.T) {
	s := Space{Cluster: pfx("10.0.0.0/16"), Bits: 24, Exclude: pfxs("10.0.2.0/23")}
	tests := []struct {
		name  string
		start uint64
		taken []netip.Prefix
		want  string
	}{
		{"empty", 0, nil, "10.0.0.0/24"},
		{"start skips the excluded range", 2, nil, "10.0.4.0/24"},
		{"taken subnet", 0, pfxs("10.0.0.0/24"), "10.0.1.0/24"},
		{"taken subnet of another size", 0, pfxs("10.0.0.128/25"), "10.0.1.0/24"},
		{"broad taken range is jumped", 0, pfxs("10.0.0.0/18"), "10.0.64.0/24"},
		{"wraps around", 253, pfxs("10.0.255.0/24"), "10.0.0.0/24"},
		{"start beyond capacity wraps", 254 + 3, nil, "10.0.5.0/24"},
		{"taken up to the end wraps", 200, pfxs("10.0.128.0/17", "10.0.0.0/24"), "10.0.1.0/24"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Pick(s, tt.start, tt.taken)
			if !ok || got.String() != tt.want {
				t.Fatalf("Pick = %s, %v; want %s", got, ok, tt.want)
			}
		})
	}
	if got, ok := Pick(s, 7, pfxs("10.0.0.0/17", "10.0.128.0/17")); ok {
		t.Errorf("Pick of a full space = %s, want none", got)
	}
	if got, ok := Pick(Space{Cluster: pfx("10.0.0.0/24"), Bits: 24, Exclude: pfxs("10.0.0.0/8")}, 0, nil); ok {
		t.Errorf("Pick of an empty space = %s, want none", got)
	}
}

// TestPickMatchesBruteForce compares Pick with a probe of every subnet in
// order, on small random spaces.
func TestPickMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	randPrefix := func() netip.Prefix {
		bits := 20 + r.IntN(9)
		return netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, byte(r.IntN(16)), byte(r.IntN(256))}), bits).Masked()
	}
	for round := 0; round < 2000; round++ {
		s := Space{Cluster: pfx("10.0.0.0/20"), Bits: 24 + r.IntN(5)}
		for range r.IntN(3) {
			s.Exclude = append(s.Exclude, randPrefix())
		}
		var taken []netip.Prefix
		for range r.IntN(6) {
			taken = append(taken, randPrefix())
		}
		start := uint64(r.IntN(1 << 9))
		got, ok := Pick(s, start, taken)

		n := s.Capacity()
		var want netip.Prefix
		wantOK := false
		for k := uint64(0); k < n && !wantOK; k++ {
			p, _ := s.Nth((start%max(n, 1) + k) % n)
			if _, hit := Overlapping(p, taken); !hit {
				want, wantOK = p, true
			}
		}
		if ok != wantOK || got != want {
			t.Fatalf("round %d: Pick(%+v, %d, %v) = %s %v, brute force %s %v", round, s, start, taken, got, ok, want, wantOK)
		}
		if ok {
			if e, hit := Overlapping(got, s.Exclude); hit {
				t.Fatalf("round %d: %s overlaps the excluded %s", round, got, e)
			}
		}
	}
}
