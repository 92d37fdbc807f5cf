package allocate

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/vpcroute/vpcroute/cloud"
)

// minClusterBits mirrors reconciler.MinClusterCIDRBits: a fix is never
// suggested broader than the cluster CIDRs vpcroute accepts.
const minClusterBits = 8

// Derived is the input of Derive: what the cloud says about this host and
// its VPC, and what the operator chose.
type Derived struct {
	// PrivateIP is the host's private IPv4 address.
	PrivateIP netip.Addr
	// VPCCIDRs are every CIDR of the VPC, primary and secondary, in any
	// order.
	VPCCIDRs []netip.Prefix
	// SubnetCIDRs are the vswitch (Alibaba) or subnet (AWS) CIDRs; they lie
	// inside VPCCIDRs, and are excluded again in case one does not.
	SubnetCIDRs []netip.Prefix
	// Cluster is the cluster CIDR and Bits the host subnet length.
	Cluster netip.Prefix
	Bits    int
}

// Space is the allocation space of d: the cluster CIDR at d.Bits, clear
// of every VPC and vswitch CIDR.
func (d Derived) Space() Space {
	return Space{Cluster: d.Cluster, Bits: d.Bits, Exclude: append(slices.Clone(d.VPCCIDRs), d.SubnetCIDRs...)}
}

// Derive returns this host's subnet as a function of its private address,
// its VPC's CIDRs and the cluster CIDR alone, so that hosts choose without
// talking to each other and never collide: the VPC's CIDRs, sorted by
// address, are laid end to end, and the host's offset in that sequence is
// the index of its subnet among the cluster's subnets that overlap no VPC
// or vswitch CIDR. With a /16 VPC and a /8 cluster CIDR at /24, host
// 192.168.1.196 gets 10.1.196.0/24.
//
// When the space has fewer subnets than the VPC has addresses, Derive
// refuses with the numbers and the fixes: a broader cluster CIDR, a
// smaller subnet, or leases from etcd.
func Derive(d Derived) (netip.Prefix, error) {
	s := d.Space()
	if err := s.Validate(); err != nil {
		return netip.Prefix{}, err
	}
	if !d.PrivateIP.Is4() {
		return netip.Prefix{}, fmt.Errorf("private IP %q is invalid: expected this host's private IPv4 address", d.PrivateIP)
	}
	vpcs := sortedCIDRs(d.VPCCIDRs)
	if len(vpcs) == 0 {
		return netip.Prefix{}, fmt.Errorf("the VPC has no CIDR: expected at least one to derive a subnet from")
	}
	var offset, size uint64
	found := false
	for _, v := range vpcs {
		if v.Contains(d.PrivateIP) {
			offset = size + u32(d.PrivateIP) - u32(v.Addr())
			found = true
		}
		size += uint64(1) << (32 - v.Bits())
	}
	if !found {
		return netip.Prefix{}, fmt.Errorf("private IP %s is in none of the VPC CIDRs %s: cannot derive a subnet from it", d.PrivateIP, joinCIDRs(vpcs))
	}
	if c := s.Capacity(); c < size {
		return netip.Prefix{}, tooSmall(d, vpcs, c, size)
	}
	p, _ := s.Nth(offset) // offset < size <= capacity
	return p, nil
}

// tooSmall is Derive's refusal: one line with the numbers and the fixes.
func tooSmall(d Derived, vpcs []netip.Prefix, capacity, need uint64) error {
	var fixes []string
	for b := d.Cluster.Bits() - 1; b >= minClusterBits; b-- {
		c := netip.PrefixFrom(d.Cluster.Addr(), b).Masked()
		if insideAny(c, vpcs) {
			break
		}
		alt := d
		alt.Cluster = c
		if alt.Space().Capacity() >= need {
			fixes = append(fixes, fmt.Sprintf("a cluster CIDR of /%d (%s)", b, c))
			break
		}
	}
	for b := d.Bits + 1; b <= MaxSubnetBits; b++ {
		alt := d
		alt.Bits = b
		if alt.Space().Capacity() >= need {
			fixes = append(fixes, fmt.Sprintf("--host-subnet-size /%d", b))
			break
		}
	}
	fixes = append(fixes, "--etcd-endpoints (leased subnets, one per host instead of one per VPC address)")
	return fmt.Errorf("cluster-cidr %s is too small for the derived allocator: it holds %d /%d subnets clear of the VPC, but the VPC's %s has %d addresses, each of which needs one; use %s",
		d.Cluster, capacity, d.Bits, joinCIDRs(vpcs), need, strings.Join(fixes, ", or "))
}

func insideAny(p netip.Prefix, ranges []netip.Prefix) bool {
	for _, r := range ranges {
		if cloud.PrefixContains(r, p) {
			return true
		}
	}
	return false
}

// sortedCIDRs returns the valid IPv4 CIDRs of in, masked, sorted by
// address, without duplicates: the order every host computes alike.
func sortedCIDRs(in []netip.Prefix) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range in {
		if p.IsValid() && p.Addr().Is4() {
			out = append(out, p.Masked())
		}
	}
	slices.SortFunc(out, func(a, b netip.Prefix) int {
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c
		}
		return a.Bits() - b.Bits()
	})
	return slices.Compact(out)
}

func joinCIDRs(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, " + ")
}
