package reconciler

import (
	"fmt"
	"slices"
)

// validateDesired splits desired routes into the ones that may be written
// and the ones refused: not IPv4, outside the cluster CIDR, overlapping the
// VPC or a vswitch/subnet, or overlapping another desired route.
func validateDesired(in PlanInput) (ok []Desired, refused []Refusal) {
	for _, d := range in.Desired {
		if slices.Contains(ok, d) {
			continue // the same claim twice is one claim
		}
		if reason := refuseReason(in, d, ok); reason != "" {
			refused = append(refused, Refusal{Desired: d, Reason: reason})
			continue
		}
		ok = append(ok, d)
	}
	return ok, refused
}

func refuseReason(in PlanInput, d Desired, accepted []Desired) string {
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
	case !contains(in.ClusterCIDR, dst):
		return fmt.Sprintf("subnet %s is outside the cluster CIDR %s", dst, in.ClusterCIDR)
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
