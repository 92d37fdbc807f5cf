package aliyun

import (
	"context"
	"slices"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"

	"github.com/vpcroute/vpcroute/cloud"
)

// InstanceTargets implements cloud.Provider. On Alibaba Cloud a route to a
// host points at its instance, so the target is the instance itself
// (whatever the host says), once
// ECS lists it in this host's VPC (any status: a stopped host keeps its
// routes). An instance ECS does not list, or lists in another VPC, is left
// out. IDs that are not ECS instance IDs are never sent (a malformed one
// would make ECS refuse the whole call) and so are left out too.
func (p *Provider) InstanceTargets(ctx context.Context, claims map[string]cloud.Target) (map[string]cloud.Target, error) {
	targets := make([]cloud.Target, 0, len(claims))
	for _, id := range sortedIDs(claims) {
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

// sortedIDs returns the instance IDs of claims in order, so that calls
// are the same for the same registry.
func sortedIDs(claims map[string]cloud.Target) []string {
	ids := make([]string, 0, len(claims))
	for id := range claims {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
