package aliyun

import (
	"context"

	"github.com/vpcroute/vpcroute/cloud"
)

// Limit is Alibaba Cloud's per-table limit of custom route entries, for
// doctor's routes.quota check (older accounts: 48).
var Limit = cloud.RouteLimit{
	Default: defaultQuota, What: "custom route entries per route table",
	Fix: "ask for a higher quota of custom route entries per table (Quota Center, VPC) and pass --route-quota, or remove entries nobody uses",
}

// accessFix is what to check when the VPC or ECS API cannot be read.
const accessFix = "check --endpoint, the credentials (the instance's RAM role, or ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET) and that the role has deploy/aliyun-ram-policy.json"

// Register adds the Alibaba Cloud provider, its flags and its limits to r.
func Register(r *cloud.Registry) {
	r.Register(cloud.Spec{Name: Name, Flags: flags, Limit: Limit, AccessFix: accessFix})
}

// flags declares the settings only the Alibaba provider has and returns
// its constructor, which adds the shared settings to them.
func flags(fs cloud.FlagSet) cloud.Constructor {
	own := &Options{}
	fs.StringVar(&own.RAMRole, "ram-role", "", "aliyun: RAM role of the instance (default: read from metadata when no access key is in the environment)")
	return func(ctx context.Context, s cloud.Settings) (cloud.Provider, error) {
		o := Options{Settings: s, RAMRole: own.RAMRole}
		if err := o.Validate(); err != nil {
			return nil, cloud.InvalidSettings(err)
		}
		return New(ctx, o)
	}
}
