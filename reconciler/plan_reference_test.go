package reconciler

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/vpcroute/vpcroute/cloud"
)

// This file keeps the plan's quadratic algorithms as they were before the
// indexes of issue 14, as the reference the randomized equivalence tests
// (plan_equiv_test.go) and the benchmarks compare with. What did not change
// (the decision per destination, WithholdBlocked, the order of claims) is
// shared with the production code, not copied.

// planReference is Calculate with a scan of every entry of every table per
// desired route, and every desired route checked against every one
// accepted before it.
func planReference(in PlanInput) Changes {
	desired, refused := validateDesiredReference(in)
	return planTables(in, desired, refused, func(entries []cloud.Route) entryLookup {
		return scanLookup{entries: entries, cluster: in.Cluster}
	})
}

// scanLookup is the old planDesired loop over a table's entries.
type scanLookup struct {
	entries []cloud.Route
	cluster string
}

func (s scanLookup) around(d netip.Prefix, carveOuts bool) (exact *cloud.Route, shadows []*cloud.Route, carved *cloud.Route) {
	for i := range s.entries {
		e := &s.entries[i]
		switch {
		case e.Destination == d:
			exact = e
		case e.OwnedBy(s.cluster):
		case cloud.PrefixContains(d, e.Destination):
			shadows = append(shadows, e)
		case cloud.PrefixContains(e.Destination, d) && e.Destination.Bits() > 0 && carveOuts:
			if carved == nil || e.Destination.Bits() > carved.Destination.Bits() {
				carved = e
			}
		}
	}
	return exact, shadows, carved
}

func validateDesiredReference(in PlanInput) (ok []Desired, refused []Refusal) {
	for _, d := range in.Desired {
		if slices.Contains(ok, d) {
			continue
		}
		if reason := refuseReasonReference(in, d, ok); reason != "" {
			refused = append(refused, Refusal{Desired: d, Reason: reason})
			continue
		}
		ok = append(ok, d)
	}
	return ok, refused
}

func refuseReasonReference(in PlanInput, d Desired, accepted []Desired) string {
	dst := d.Destination
	if reason := claimReason(in, d); reason != "" {
		return reason
	}
	for _, v := range in.VPCCIDRs {
		if v.Overlaps(dst) {
			return fmt.Sprintf("subnet %s overlaps the VPC CIDR %s; choose a Docker bip outside the VPC", dst, v)
		}
	}
	for _, s := range in.SubnetCIDRs {
		if s.Overlaps(dst) {
			return fmt.Sprintf("subnet %s overlaps the vswitch/subnet CIDR %s; choose a Docker bip outside it", dst, s)
		}
	}
	for _, a := range accepted {
		if a.Destination.Overlaps(dst) {
			return fmt.Sprintf("subnet %s overlaps %s, already claimed by %s", dst, a.Destination, a.Target)
		}
	}
	return ""
}

// desiredFromHostsReference is DesiredFromHosts with every claim checked
// against every claim accepted before it.
func desiredFromHostsReference(hosts []Host, routed Routed) ([]Desired, []ClaimConflict) {
	var accepted []hostClaim
	var desired []Desired
	var conflicts []ClaimConflict
next:
	for _, c := range orderedClaims(hosts, routed) {
		for _, a := range accepted {
			if !a.claim.Subnet.Overlaps(c.claim.Subnet) {
				continue
			}
			if a.host.Instance == c.host.Instance && a.claim.Subnet == c.claim.Subnet {
				continue next
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
	if len(desired) == 0 {
		return nil, conflicts
	}
	return sortDesired(desired), conflicts
}
