package reconciler

import "net/netip"

// prefixSet answers "which is the first of these prefixes that overlaps
// p?" in time proportional to p's length, not to the number of prefixes.
// First means the smallest index given to add; an index added twice keeps
// its first place. It is a binary trie per address family; the plan uses it
// for the VPC and vswitch CIDRs and for the claims accepted so far, where a
// scan of every earlier claim made the plan quadratic.
//
// Overlap is netip.Prefix.Overlaps: both valid, the same family (an
// IPv4-mapped IPv6 prefix is IPv6), and one contains the other.
type prefixSet struct {
	v4, v6 prefixTrie
}

// prefixTrie is a binary trie over one address family, stored in a slice.
// Node 0 is the root; child 0 means "no child", as the root is no one's.
type prefixTrie struct {
	nodes []trieNode
}

type trieNode struct {
	child [2]int32
	// here is 1 + the smallest index of a prefix ending at this node, or 0.
	here int32
	// first is 1 + the smallest index of a prefix ending in this node's
	// subtree (this node included), or 0.
	first int32
}

// newPrefixSet returns a set sized for about n IPv4 prefixes.
func newPrefixSet(n int) prefixSet {
	// Prefixes of similar length share their upper nodes: two nodes a
	// prefix is the common case (a /24 per host in a cluster CIDR).
	return prefixSet{v4: prefixTrie{nodes: make([]trieNode, 1, 2*n+1)}}
}

// add records p under index i (i >= 0). An invalid prefix overlaps
// nothing and is not recorded.
func (s *prefixSet) add(p netip.Prefix, i int) {
	if !p.IsValid() {
		return
	}
	t, key := s.trie(p)
	if len(t.nodes) == 0 {
		t.nodes = append(t.nodes, trieNode{})
	}
	mark := int32(i) + 1
	n := int32(0)
	for depth := 0; ; depth++ {
		node := &t.nodes[n]
		if node.first == 0 || mark < node.first {
			node.first = mark
		}
		if depth == p.Bits() {
			if node.here == 0 || mark < node.here {
				node.here = mark
			}
			return
		}
		b := key.bit(depth)
		next := node.child[b]
		if next == 0 {
			next = int32(len(t.nodes))
			t.nodes[n].child[b] = next // node may move with the append below
			t.nodes = append(t.nodes, trieNode{})
		}
		n = next
	}
}

// firstOverlap returns the smallest index of a recorded prefix overlapping
// p, or -1 when none does: the prefixes on p's path (containing it) and the
// ones below it (inside it).
func (s *prefixSet) firstOverlap(p netip.Prefix) int {
	if !p.IsValid() {
		return -1
	}
	t, key := s.trie(p)
	if len(t.nodes) == 0 {
		return -1
	}
	best := int32(0)
	better := func(mark int32) {
		if mark != 0 && (best == 0 || mark < best) {
			best = mark
		}
	}
	n := int32(0)
	for depth := 0; ; depth++ {
		node := &t.nodes[n]
		if depth == p.Bits() {
			better(node.first)
			break
		}
		better(node.here)
		if n = node.child[key.bit(depth)]; n == 0 {
			break
		}
	}
	return int(best) - 1
}

func (s *prefixSet) trie(p netip.Prefix) (*prefixTrie, addrBits) {
	if p.Addr().Is4() {
		a := p.Addr().As4()
		var k addrBits
		copy(k[:], a[:])
		return &s.v4, k
	}
	return &s.v6, p.Addr().As16()
}

// addrBits is an address as bytes, most significant first (an IPv4
// address in the first four).
type addrBits [16]byte

func (k *addrBits) bit(i int) int { return int(k[i>>3]>>(7-i&7)) & 1 }
