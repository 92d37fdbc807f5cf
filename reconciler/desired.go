package reconciler

import (
	"cmp"
	"slices"

	"github.com/vpcroute/vpcroute/cloud"
)

// Routed is the set of subnet-to-target pairs that an entry owned by the
// cluster already routes in some managed table.
type Routed map[Desired]bool

// RoutedIn returns what the cluster's own entries in tables route.
func RoutedIn(tables map[string][]cloud.Route, cluster string) Routed {
	n := 0
	for _, entries := range tables {
		n += len(entries)
	}
	out := make(Routed, n)
	for _, entries := range tables {
		for _, e := range entries {
			if e.OwnedBy(cluster) && !e.System {
				out[Desired{Destination: e.Destination, Target: e.Target}] = true
			}
		}
	}
	return out
}

// DesiredFromHosts turns admitted hosts into desired routes: each claimed
// subnet to its host's target. When two hosts claim overlapping subnets one
// claim wins and keeps winning, so the route never flaps between them; the
// other is returned as a ClaimConflict. The winner is decided only by what
// the cloud and the registry saw, never by what a record says about
// itself: a claim already routed to its host (in routed) comes first, then
// the host the registry saw first (Order, the etcd create revision), then
// the instance ID. The times a record gives for its claims are not used.
// n claims take O(n log n) time.
func DesiredFromHosts(hosts []Host, routed Routed) ([]Desired, []ClaimConflict) {
	all := orderedClaims(hosts, routed)
	// Claims taken are indexed by subnet: the first one overlapping a
	// claim is a look-up, not a scan of every claim taken before it.
	accepted := make([]hostClaim, 0, len(all))
	desired := make([]Desired, 0, len(all))
	taken := newPrefixSet(len(all))
	var conflicts []ClaimConflict
	for _, c := range all {
		if i := taken.firstOverlap(c.claim.Subnet); i >= 0 {
			a := accepted[i]
			if a.host.Instance == c.host.Instance && a.claim.Subnet == c.claim.Subnet {
				continue // the same claim twice is one claim
			}
			conflicts = append(conflicts, ClaimConflict{
				Refused: ClaimRef{Instance: c.host.Instance, Subnet: c.claim.Subnet},
				Holder:  ClaimRef{Instance: a.host.Instance, Subnet: a.claim.Subnet},
			})
			continue
		}
		taken.add(c.claim.Subnet, len(accepted))
		accepted = append(accepted, c)
		desired = append(desired, Desired{Destination: c.claim.Subnet, Target: c.host.Target})
	}
	if len(desired) == 0 {
		return nil, conflicts
	}
	return sortDesired(desired), conflicts
}

// hostClaim is one subnet claimed by one host, and whether the cluster
// already routes it to that host.
type hostClaim struct {
	host   *Host // a pointer: a Host is large, and n claims are sorted
	claim  Claim
	routed bool
}

// orderedClaims lists the claims of hosts with a target, best first: routed,
// then registered first, then by instance ID and subnet.
func orderedClaims(hosts []Host, routed Routed) []hostClaim {
	n := 0
	for _, h := range hosts {
		n += len(h.Subnets)
	}
	all := make([]hostClaim, 0, n)
	for i := range hosts {
		h := &hosts[i]
		if h.Target.ID == "" {
			continue
		}
		for _, c := range h.Subnets {
			all = append(all, hostClaim{h, c, routed[Desired{Destination: c.Subnet, Target: h.Target}]})
		}
	}
	return sortedCopy(all, func(a, b *hostClaim) int {
		return cmp.Or(-cmpBool(a.routed, b.routed), cmp.Compare(a.host.Order, b.host.Order),
			cmp.Compare(a.host.Instance, b.host.Instance), a.claim.Subnet.Addr().Compare(b.claim.Subnet.Addr()),
			cmp.Compare(a.claim.Subnet.Bits(), b.claim.Subnet.Bits()))
	})
}

// sortDesired returns desired sorted by destination.
func sortDesired(desired []Desired) []Desired {
	return sortedCopy(desired, func(a, b *Desired) int {
		return cmp.Or(a.Destination.Addr().Compare(b.Destination.Addr()), cmp.Compare(a.Destination.Bits(), b.Destination.Bits()))
	})
}

// cmpBool orders false before true.
func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// sortedCopy returns s sorted by compare. It sorts positions, not elements:
// the elements here are large and hold pointers, so moving each of them
// log n times cost more than comparing them.
func sortedCopy[T any](s []T, compare func(a, b *T) int) []T {
	pos := make([]int32, len(s))
	for i := range pos {
		pos[i] = int32(i)
	}
	slices.SortFunc(pos, func(i, j int32) int { return compare(&s[i], &s[j]) })
	out := make([]T, len(s))
	for i, p := range pos {
		out[i] = s[p]
	}
	return out
}
