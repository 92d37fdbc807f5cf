package reconciler

import (
	"fmt"

	"github.com/vpcroute/vpcroute/cloud"
)

// validateDesired splits desired routes into the ones that may be written
// and the ones refused: not IPv4, outside the cluster CIDR, overlapping the
// VPC or a vswitch/subnet, or overlapping another desired route. Each
// overlap is a look-up in a prefixSet, so n routes take O(n log n) time.
func validateDesired(in PlanInput) (ok []Desired, refused []Refusal) {
	var vpc, vswitch prefixSet
	accepted := newPrefixSet(len(in.Desired))
	ok = make([]Desired, 0, len(in.Desired))
	for i, v := range in.VPCCIDRs {
		vpc.add(v, i)
	}
	for i, s := range in.SubnetCIDRs {
		vswitch.add(s, i)
	}
	for _, d := range in.Desired {
		// Accepted routes never overlap, so the one d overlaps first is
		// the only one that can equal it.
		first := accepted.firstOverlap(d.Destination)
		if first >= 0 && ok[first] == d {
			continue // the same claim twice is one claim
		}
		reason := claimReason(in, d)
		if reason == "" {
			reason = overlapReason(in, d, &vpc, &vswitch)
		}
		if reason == "" && first >= 0 {
			a := ok[first]
			reason = fmt.Sprintf("subnet %s overlaps %s, already claimed by %s", d.Destination, a.Destination, a.Target)
		}
		if reason != "" {
			refused = append(refused, Refusal{Desired: d, Reason: reason})
			continue
		}
		accepted.add(d.Destination, len(ok))
		ok = append(ok, d)
	}
	return ok, refused
}

// claimReason says why d cannot be a route of this cluster by itself, or
// returns "".
func claimReason(in PlanInput, d Desired) string {
	dst := d.Destination
	switch {
	case !dst.IsValid() || !dst.Addr().Is4():
		return fmt.Sprintf("subnet %s is not an IPv4 CIDR", dst)
	case dst != dst.Masked():
		return fmt.Sprintf("subnet %s has host bits set; expected %s", dst, dst.Masked())
	case d.Target.ID == "":
		return fmt.Sprintf("subnet %s has no next hop", dst)
	case !in.ClusterCIDR.IsValid():
		return "no cluster CIDR is set"
	case !cloud.PrefixContains(in.ClusterCIDR, dst):
		return fmt.Sprintf("subnet %s is outside the cluster CIDR %s", dst, in.ClusterCIDR)
	}
	return ""
}

// overlapReason says which of the VPC's own ranges d overlaps (the first
// listed), or returns "".
func overlapReason(in PlanInput, d Desired, vpc, vswitch *prefixSet) string {
	dst := d.Destination
	if i := vpc.firstOverlap(dst); i >= 0 {
		return fmt.Sprintf("subnet %s overlaps the VPC CIDR %s; choose a Docker bip outside the VPC", dst, in.VPCCIDRs[i])
	}
	if i := vswitch.firstOverlap(dst); i >= 0 {
		return fmt.Sprintf("subnet %s overlaps the vswitch/subnet CIDR %s; choose a Docker bip outside it", dst, in.SubnetCIDRs[i])
	}
	return ""
}
