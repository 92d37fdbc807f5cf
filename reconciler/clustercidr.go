package reconciler

import (
	"fmt"
	"net/netip"

	"github.com/vpcroute/vpcroute/cloud"
)

// MinClusterCIDRBits is the shortest cluster CIDR accepted. The cluster CIDR
// bounds what vpcroute routes and deletes, what it exempts from Docker's
// MASQUERADE and what it lets through FORWARD: a broader one (0.0.0.0/0
// above all) would hand a large part of the Internet, or the VPC's own
// egress, to one host.
const MinClusterCIDRBits = 8

// privateRanges are suggested, in this order, for a cluster CIDR that must
// lie outside the VPC.
var privateRanges = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
}

// ValidateClusterCIDR checks a cluster CIDR before anything is written: an
// IPv4 network address, /8 or longer, and not inside any of vpcCIDRs (every
// container subnet there would overlap the VPC and could not be routed,
// while the host's NAT exemption would still hide VPC addresses behind
// container routes). Pass the VPC CIDRs known so far; nil checks the CIDR
// alone, and the caller checks again once the cloud has been read. The
// error is one line naming cluster-cidr, the value and what is expected.
func ValidateClusterCIDR(cidr netip.Prefix, vpcCIDRs []netip.Prefix) error {
	switch {
	case !cidr.IsValid():
		return fmt.Errorf("cluster-cidr is not set: expected an IPv4 CIDR such as 10.0.0.0/8")
	case !cidr.Addr().Is4():
		return fmt.Errorf("cluster-cidr %q is invalid: expected an IPv4 CIDR such as 10.0.0.0/8", cidr)
	case cidr != cidr.Masked():
		return fmt.Errorf("cluster-cidr %q is invalid: host bits are set; expected %s", cidr, cidr.Masked())
	case cidr.Bits() < MinClusterCIDRBits:
		return fmt.Errorf("cluster-cidr %q is too broad: expected /%d or longer, e.g. 10.0.0.0/8, 172.16.0.0/12",
			cidr, MinClusterCIDRBits)
	}
	for _, v := range vpcCIDRs {
		if v.IsValid() && cloud.PrefixContains(v, cidr) {
			return fmt.Errorf("cluster-cidr %q lies inside the VPC CIDR %s: expected a range outside the VPC%s",
				cidr, v, suggestOutside(vpcCIDRs))
		}
	}
	return nil
}

// suggestOutside names the first private range clear of every VPC CIDR, or
// nothing when none is.
func suggestOutside(vpcCIDRs []netip.Prefix) string {
	for _, r := range privateRanges {
		clear := true
		for _, v := range vpcCIDRs {
			if v.IsValid() && v.Overlaps(r) {
				clear = false
				break
			}
		}
		if clear {
			return ", e.g. " + r.String()
		}
	}
	return ""
}
