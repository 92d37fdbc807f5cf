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
	out := Routed{}
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
func DesiredFromHosts(hosts []Host, routed Routed) ([]Desired, []ClaimConflict) {
	type claim struct {
		host   Host
		claim  Claim
		routed bool
	}
	var all []claim
	for _, h := range hosts {
		if h.Target.ID == "" {
			continue
		}
		for _, c := range h.Subnets {
			all = append(all, claim{h, c, routed[Desired{Destination: c.Subnet, Target: h.Target}]})
		}
	}
	slices.SortFunc(all, func(a, b claim) int {
		return cmp.Or(-cmpBool(a.routed, b.routed), cmp.Compare(a.host.Order, b.host.Order),
			cmp.Compare(a.host.Instance, b.host.Instance), a.claim.Subnet.Addr().Compare(b.claim.Subnet.Addr()),
			cmp.Compare(a.claim.Subnet.Bits(), b.claim.Subnet.Bits()))
	})
	var accepted []claim
	var desired []Desired
	var conflicts []ClaimConflict
next:
	for _, c := range all {
		for _, a := range accepted {
			if !a.claim.Subnet.Overlaps(c.claim.Subnet) {
				continue
			}
			if a.host.Instance == c.host.Instance && a.claim.Subnet == c.claim.Subnet {
				continue next // the same claim twice is one claim
			}
			conflicts = append(conflicts, ClaimConflict{
				Refused: ClaimRef{Instance: c.host.Instance, Subnet: c.claim.Subnet},
				Holder:  ClaimRef{Instance: a.host.Instance, Subnet: a.claim.Subnet},
			})
			continue next
		}
		accepted = append(accepted, c)
		desired = append(desired, Desired{Destination: c.claim.Subnet, Target: c.host.Target})
	}
	slices.SortFunc(desired, func(a, b Desired) int {
		return cmp.Or(a.Destination.Addr().Compare(b.Destination.Addr()), cmp.Compare(a.Destination.Bits(), b.Destination.Bits()))
	})
	return desired, conflicts
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
