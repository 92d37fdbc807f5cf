package reconciler

import (
	"cmp"
	"net/netip"
	"slices"

	"github.com/vpcroute/vpcroute/cloud"
)

// tableIndex finds, for a desired IPv4 destination, the entries of one
// table on it, inside it and around it without scanning the table: the
// entries are sorted once by destination, so the ones inside a prefix are
// one run of the order and the ones around it are found by length.
//
// Only valid IPv4 destinations are indexed: the plan's desired routes are
// IPv4, and an IPv6 (or IPv4-mapped) entry neither contains nor lies
// inside one.
type tableIndex struct {
	entries []cloud.Route
	cluster string
	// keys holds one key per indexed entry, sorted by destination (masked
	// address, then length), then by position in the table.
	keys []entryKey
	// unownedLens has bit b set when an entry not owned by the cluster
	// has a destination of length b: only those lengths can hold the
	// broader entry a desired route would be carved out of.
	unownedLens uint64
}

type entryKey struct {
	dst uint64 // masked IPv4 address << 8 | prefix length
	pos int    // position in entries
}

func prefixKey(addr uint32, bits int) uint64 { return uint64(addr)<<8 | uint64(bits) }

// v4Key returns the masked address of an IPv4 prefix as a number.
func v4Key(p netip.Prefix) uint32 {
	a := p.Masked().Addr().As4()
	return uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
}

func newTableIndex(entries []cloud.Route, cluster string) *tableIndex {
	idx := &tableIndex{entries: entries, cluster: cluster, keys: make([]entryKey, 0, len(entries))}
	for i, e := range entries {
		if !e.Destination.IsValid() || !e.Destination.Addr().Is4() {
			continue
		}
		idx.keys = append(idx.keys, entryKey{prefixKey(v4Key(e.Destination), e.Destination.Bits()), i})
		if !e.OwnedBy(cluster) {
			idx.unownedLens |= 1 << e.Destination.Bits()
		}
	}
	slices.SortFunc(idx.keys, func(a, b entryKey) int { return cmp.Or(cmp.Compare(a.dst, b.dst), cmp.Compare(a.pos, b.pos)) })
	return idx
}

// around returns what the plan must know about d (a valid, masked IPv4
// prefix) in this table:
//   - exact: the last entry whose destination is d;
//   - shadows: the entries not owned by the cluster that lie inside d
//     (other than exact ones), in table order;
//   - carved: when carveOuts is set, the most specific entry not owned by
//     the cluster that strictly contains d, other than a default route
//     (the first in table order among equals).
//
// Entries owned by the cluster are only ever exact: an overlapping entry
// of our own is another host's claim, refused on that host.
func (idx *tableIndex) around(d netip.Prefix, carveOuts bool) (exact *cloud.Route, shadows []*cloud.Route, carved *cloud.Route) {
	addr, bits := v4Key(d), d.Bits()
	last := uint64(addr) | (1<<(32-bits) - 1)
	// Inside d, d included: from d's own key up to the last address it
	// holds. A broader prefix with d's address sorts before d's key.
	start, _ := slices.BinarySearchFunc(idx.keys, prefixKey(addr, bits), func(k entryKey, t uint64) int { return cmp.Compare(k.dst, t) })
	var inside []int
	for _, k := range idx.keys[start:] {
		if k.dst>>8 > last {
			break
		}
		e := &idx.entries[k.pos]
		switch {
		case e.Destination == d:
			exact = e // equal keys sort by position: the last one wins
		case !e.OwnedBy(idx.cluster):
			inside = append(inside, k.pos)
		}
	}
	slices.Sort(inside)
	for _, i := range inside {
		shadows = append(shadows, &idx.entries[i])
	}
	if carveOuts {
		carved = idx.broader(addr, bits)
	}
	return exact, shadows, carved
}

// broader returns the most specific entry not owned by the cluster that
// strictly contains the prefix addr/bits, never a default route.
func (idx *tableIndex) broader(addr uint32, bits int) *cloud.Route {
	for b := bits - 1; b > 0; b-- {
		if idx.unownedLens&(1<<b) == 0 {
			continue
		}
		key := prefixKey(addr&^(1<<(32-b)-1), b)
		i, _ := slices.BinarySearchFunc(idx.keys, key, func(k entryKey, t uint64) int { return cmp.Compare(k.dst, t) })
		for ; i < len(idx.keys) && idx.keys[i].dst == key; i++ {
			if e := &idx.entries[idx.keys[i].pos]; !e.OwnedBy(idx.cluster) {
				return e
			}
		}
	}
	return nil
}
