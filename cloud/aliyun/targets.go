package aliyun

import (
	"context"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"

	"github.com/vpcroute/vpcroute/cloud"
)

// InstanceTargets implements cloud.Provider. On Alibaba Cloud a route to a
// host points at its instance, so the target is the instance itself, once
// ECS lists it in this host's VPC (any status: a stopped host keeps its
// routes). An instance ECS does not list, or lists in another VPC, is left
// out. IDs that are not ECS instance IDs are never sent (a malformed one
// would make ECS refuse the whole call) and so are left out too.
func (p *Provider) InstanceTargets(ctx context.Context, instances []string) (map[string]cloud.Target, error) {
	targets := make([]cloud.Target, 0, len(instances))
	for _, id := range instances {
		targets = append(targets, cloud.Target{Kind: cloud.TargetInstance, ID: id})
	}
	ids := instanceIDs(targets)
	out := make(map[string]cloud.Target, len(ids))
	for start := 0; start < len(ids); start += maxInstanceIDs {
		chunk := ids[start:min(start+maxInstanceIDs, len(ids))]
		err := p.describeInstances(ctx, chunk, func(in ecs.Instance) {
			if in.VpcAttributes.VpcId == p.self.VPCID {
				out[in.InstanceId] = cloud.Target{Kind: cloud.TargetInstance, ID: in.InstanceId}
			}
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
