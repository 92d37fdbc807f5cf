package reconciler

import (
	"cmp"
	"slices"

	"github.com/vpcroute/vpcroute/cloud"
)

// DesiredFromHosts turns registered hosts into desired routes: each claimed
// subnet to its host's target. When two hosts claim overlapping subnets the
// earlier claim wins and keeps winning, so the route never flaps between
// them; the later one is returned as a ClaimConflict. Claims are ordered by
// Since, then by registry order, then by instance ID, so every leader
// decides the same way.
func DesiredFromHosts(hosts []Host) ([]Desired, []ClaimConflict) {
	type claim struct {
		host  Host
		claim Claim
	}
	var all []claim
	for _, h := range hosts {
		if h.Target.ID == "" {
			continue
		}
		for _, c := range h.Subnets {
			all = append(all, claim{h, c})
		}
	}
	slices.SortFunc(all, func(a, b claim) int {
		return cmp.Or(a.claim.Since.Compare(b.claim.Since), cmp.Compare(a.host.Order, b.host.Order),
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

// targetsOf returns the set of hosts' targets.
func targetsOf(hosts []Host) map[cloud.Target]Host {
	out := make(map[cloud.Target]Host, len(hosts))
	for _, h := range hosts {
		if h.Target.ID != "" {
			out[h.Target] = h
		}
	}
	return out
}
