package aws

import (
	"context"

	"github.com/vpcroute/vpcroute/cloud"
)

// Limit is EC2's per-table route limit, for doctor's routes.quota check.
var Limit = cloud.RouteLimit{
	Default: 50, What: "routes per route table (50 by default, up to 1000)",
	Fix: "request a higher \"routes per route table\" quota (Service Quotas, VPC) and pass --route-quota, or remove routes nobody uses",
}

// accessFix is what to check when EC2 cannot be read.
const accessFix = "check the instance profile and that its role has deploy/aws-iam-policy.json"

// Register adds the EC2 provider, its flags and its limits to r.
func Register(r *cloud.Registry) {
	r.Register(cloud.Spec{Name: Name, Flags: flags, Limit: Limit, AccessFix: accessFix})
}

// flags declares the settings only the EC2 provider has and returns its
// constructor, which adds the shared settings to them.
func flags(fs cloud.FlagSet) cloud.Constructor {
	own := &Options{}
	fs.BoolVar(&own.RouteTableTag, "route-table-tag", false, "aws: manage only the route tables tagged vpcroute:cluster=<cluster-name>")
	fs.StringVar(&own.NetworkInterfaceID, "network-interface-id", "", "aws: the ENI this host's routes target (default: the primary ENI, from metadata or DescribeInstances)")
	fs.Float64Var(&own.MutatingRate, "mutating-rate", DefaultMutatingRate, "aws: mutating EC2 calls per second, client-side (EC2's own bucket refills 5/s)")
	fs.IntVar(&own.MutatingBurst, "mutating-burst", DefaultMutatingBurst, "aws: burst of mutating EC2 calls, client-side (EC2's own bucket holds 50)")
	return func(ctx context.Context, s cloud.Settings) (cloud.Provider, error) {
		o := Options{Settings: s, NetworkInterfaceID: own.NetworkInterfaceID, RouteTableTag: own.RouteTableTag,
			MutatingRate: own.MutatingRate, MutatingBurst: own.MutatingBurst}
		if err := o.Validate(); err != nil {
			return nil, cloud.InvalidSettings(err)
		}
		return New(ctx, o)
	}
}
