// Package allocate chooses a host's container subnet (its Docker bip) inside
// the cluster CIDR, clear of the VPC's own ranges. It is pure: no I/O, no
// clock. Two allocators use it: Derive, a function of the host's private
// address that needs no coordination, and Pick, the search behind the etcd
// leases of reconciler/registry.
package allocate

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

// MinSubnetBits and MaxSubnetBits bound --host-subnet-size: a /31 or /32
// leaves Docker no address for a container, and a subnet shorter than /8
// cannot fit any accepted cluster CIDR.
const (
	MinSubnetBits = 8
	MaxSubnetBits = 30
)

// ParseSize parses a host subnet size written "/24" or "24".
func ParseSize(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimPrefix(s, "/"))
	if err != nil || n < MinSubnetBits || n > MaxSubnetBits {
		return 0, fmt.Errorf("host-subnet-size %q is invalid: expected a prefix length from /%d to /%d, e.g. /24", s, MinSubnetBits, MaxSubnetBits)
	}
	return n, nil
}

// Space is the set of subnets a host may be given: every subnet of length
// Bits inside Cluster that overlaps none of Exclude (the VPC's CIDRs and its
// vswitch or subnet CIDRs). A cluster CIDR that contains the VPC is usable:
// the VPC's part of it is skipped.
type Space struct {
	Cluster netip.Prefix
	Bits    int
	Exclude []netip.Prefix
}

// interval is a closed range of subnet indices inside the cluster CIDR.
type interval struct{ lo, hi uint64 }

// Validate checks that the space is well formed.
func (s Space) Validate() error {
	if !s.Cluster.IsValid() || !s.Cluster.Addr().Is4() {
		return fmt.Errorf("cluster-cidr %q is invalid: expected an IPv4 CIDR such as 10.0.0.0/8", s.Cluster)
	}
	if s.Bits < s.Cluster.Bits() || s.Bits > MaxSubnetBits {
		return fmt.Errorf("host-subnet-size /%d is invalid: expected /%d (the cluster CIDR %s) to /%d", s.Bits, s.Cluster.Bits(), s.Cluster, MaxSubnetBits)
	}
	return nil
}

// total is how many subnets of length Bits the cluster CIDR holds.
func (s Space) total() uint64 { return 1 << (s.Bits - s.Cluster.Bits()) }

// excluded returns the merged, sorted index ranges of the cluster's subnets
// that overlap Exclude.
func (s Space) excluded() []interval {
	base := u32(s.Cluster.Addr())
	last := base + (s.total() << s.shift()) - 1
	var out []interval
	for _, e := range s.Exclude {
		if !e.IsValid() || !e.Addr().Is4() || !e.Overlaps(s.Cluster) {
			continue
		}
		e = e.Masked()
		lo := max(u32(e.Addr()), base)
		hi := min(u32(e.Addr())+(uint64(1)<<(32-e.Bits()))-1, last)
		out = append(out, interval{(lo - base) >> s.shift(), (hi - base) >> s.shift()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].lo < out[j].lo })
	merged := out[:0]
	for _, iv := range out {
		if n := len(merged); n > 0 && iv.lo <= merged[n-1].hi+1 {
			merged[n-1].hi = max(merged[n-1].hi, iv.hi)
			continue
		}
		merged = append(merged, iv)
	}
	return merged
}

func (s Space) shift() int { return 32 - s.Bits }

// Capacity is how many subnets the space holds.
func (s Space) Capacity() uint64 {
	n := s.total()
	for _, iv := range s.excluded() {
		n -= iv.hi - iv.lo + 1
	}
	return n
}

// Nth returns the i-th subnet of the space, counting from the lowest
// address and skipping excluded ones; false when i >= Capacity.
func (s Space) Nth(i uint64) (netip.Prefix, bool) {
	j := i
	for _, iv := range s.excluded() {
		if iv.lo > j {
			break
		}
		j += iv.hi - iv.lo + 1
	}
	if j >= s.total() {
		return netip.Prefix{}, false
	}
	return s.subnet(j), true
}

// subnet is the cluster's j-th subnet, excluded or not.
func (s Space) subnet(j uint64) netip.Prefix {
	return netip.PrefixFrom(addr(u32(s.Cluster.Addr())+j<<s.shift()), s.Bits)
}

// Overlapping returns the first of ranges that overlaps p.
func Overlapping(p netip.Prefix, ranges []netip.Prefix) (netip.Prefix, bool) {
	for _, r := range ranges {
		if r.IsValid() && r.Overlaps(p) {
			return r, true
		}
	}
	return netip.Prefix{}, false
}

// Pick returns the first subnet of the space, starting at index start and
// wrapping around, that overlaps none of taken; false when every one does.
// Starting each host somewhere else (a hash of its name, its derived
// index) keeps hosts that lease at the same moment from all wanting the
// same subnet.
func Pick(s Space, start uint64, taken []netip.Prefix) (netip.Prefix, bool) {
	n := s.Capacity()
	if n == 0 {
		return netip.Prefix{}, false
	}
	start %= n
	if p, ok := s.scan(start, n, taken); ok {
		return p, true
	}
	return s.scan(0, start, taken)
}

// scan returns the first subnet with an index in [i, end) that overlaps
// none of taken. A taken range longer than one subnet is jumped over, so
// the search takes about len(taken)+1 probes, not one per subnet.
func (s Space) scan(i, end uint64, taken []netip.Prefix) (netip.Prefix, bool) {
	for i < end {
		p, _ := s.Nth(i)
		t, hit := Overlapping(p, taken)
		if !hit {
			return p, true
		}
		next := i + 1
		if t.Bits() < s.Bits {
			k, ok := s.indexAtOrAfter(u32(t.Masked().Addr()) + uint64(1)<<(32-t.Bits()))
			if !ok {
				return netip.Prefix{}, false
			}
			next = max(k, next)
		}
		i = next
	}
	return netip.Prefix{}, false
}

// indexAtOrAfter is the index of the first free subnet at or after the
// address a; false when there is none.
func (s Space) indexAtOrAfter(a uint64) (uint64, bool) {
	base := u32(s.Cluster.Addr())
	if a < base {
		return 0, true
	}
	j := (a - base + (1 << s.shift()) - 1) >> s.shift()
	if j >= s.total() {
		return 0, false
	}
	// Free index = j minus the excluded subnets below j; j itself may be
	// excluded, then the next free one is right after its interval.
	i := j
	for _, iv := range s.excluded() {
		switch {
		case iv.hi < j:
			i -= iv.hi - iv.lo + 1
		case iv.lo <= j:
			i -= j - iv.lo
		}
	}
	if i >= s.Capacity() {
		return 0, false
	}
	return i, true
}

func u32(a netip.Addr) uint64 {
	b := a.As4()
	return uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3])
}

func addr(v uint64) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// BIP is Docker's bip for a subnet: its first host address and its length.
func BIP(subnet netip.Prefix) string {
	return netip.PrefixFrom(subnet.Masked().Addr().Next(), subnet.Bits()).String()
}
