package doctor

import (
	"context"
	"fmt"
)

// Limit is a provider's per-table route limit, for routes.quota.
type Limit struct {
	// Default is the limit when --route-quota is not given.
	Default int
	// What names the limit as the provider's documents do.
	What string
	// Fix says how to raise it.
	Fix string
	// CountSystem is true when the cloud's own entries count against it.
	CountSystem bool
}

// Limits are the providers' route limits. A provider not listed gets no
// quota check unless --route-quota is given.
var Limits = map[string]Limit{
	"aliyun": {Default: 200, What: "custom route entries per route table",
		Fix: "ask for a higher quota of custom route entries per table (Quota Center, VPC) and pass --route-quota, or remove entries nobody uses"},
	"aws": {Default: 50, What: "routes per route table (50 by default, up to 1000)",
		Fix: "request a higher \"routes per route table\" quota (Service Quotas, VPC) and pass --route-quota, or remove routes nobody uses"},
}

// SourceDestChecker is implemented by providers whose instances forward
// only with a source/destination check off (EC2): Gather asks it, and the
// cloud.source-dest-check check appears in the report. Alibaba Cloud has
// no such check, so the Alibaba provider does not implement it.
type SourceDestChecker interface {
	// SourceDestCheck reports whether the check is on for this host's
	// network interface, and which interface that is.
	SourceDestCheck(ctx context.Context) (iface string, on bool, err error)
}

// checkSourceDest: with the check on, the cloud drops every forwarded
// packet whose addresses are not the interface's own: all container
// traffic.
func checkSourceDest(sd *SourceDestFacts) Check {
	d := defSourceDest
	switch {
	case sd.Err != "":
		return d.warn("cannot read the source/destination check: "+sd.Err, "check the instance role's permissions (ec2:DescribeNetworkInterfaceAttribute)")
	case sd.On:
		return d.fail(fmt.Sprintf("the source/destination check of %s is on: the cloud drops every forwarded container packet", sd.Interface),
			fmt.Sprintf("run `vpcroute sync` (it turns it off), or: aws ec2 modify-network-interface-attribute --network-interface-id %s --no-source-dest-check", sd.Interface))
	}
	return d.pass(fmt.Sprintf("the source/destination check of %s is off", sd.Interface))
}
