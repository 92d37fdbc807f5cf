package cloud

import (
	"context"
	"fmt"
	"net/netip"
)

// NetworkReads are a provider's reads of its VPC, for ReadNetwork.
type NetworkReads struct {
	// CIDRs reads the VPC's CIDRs (primary and secondary).
	CIDRs func(context.Context) ([]netip.Prefix, error)
	// SubnetCIDRs reads the vswitch (Alibaba) or subnet (AWS) CIDRs.
	SubnetCIDRs func(context.Context) ([]netip.Prefix, error)
	// RouteTables reads the IDs of the route tables to manage. It may
	// return its own error for none (a cloud-specific hint); an empty
	// answer without one is "VPC ... has no route table".
	RouteTables func(context.Context) ([]string, error)
}

// ReadNetwork is Provider.Network for every provider: given.CIDRs and
// given.RouteTables (the operator's --vpc-cidr and --route-table) stand
// when set, else read asks the cloud; the subnet CIDRs are always read.
// given.VPCID names the VPC. An error is returned with what was known.
func ReadNetwork(ctx context.Context, given Network, read NetworkReads) (Network, error) {
	n := Network{VPCID: given.VPCID, CIDRs: given.CIDRs}
	if len(n.CIDRs) == 0 {
		cidrs, err := read.CIDRs(ctx)
		if err != nil {
			return n, err
		}
		n.CIDRs = cidrs
	}
	subnets, err := read.SubnetCIDRs(ctx)
	if err != nil {
		return n, err
	}
	n.SubnetCIDRs = subnets
	n.RouteTables = given.RouteTables
	if len(n.RouteTables) == 0 {
		if n.RouteTables, err = read.RouteTables(ctx); err != nil {
			return n, err
		}
		if len(n.RouteTables) == 0 {
			return n, fmt.Errorf("VPC %s has no route table", n.VPCID)
		}
	}
	return n, nil
}
