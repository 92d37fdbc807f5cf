package aws

import (
	"context"

	awsv2 "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/vpcroute/vpcroute/cloud"
)

// InstanceTargets implements cloud.Provider. On EC2 a route to a host
// points at its primary ENI (device index 0), as EC2 lists it attached to
// the instance. An instance EC2 does not list, lists terminated or
// shutting down, lists in another VPC, or lists without a primary ENI is
// left out; malformed IDs are never sent.
func (p *Provider) InstanceTargets(ctx context.Context, instances []string) (map[string]cloud.Target, error) {
	targets := make([]cloud.Target, 0, len(instances))
	for _, id := range instances {
		targets = append(targets, cloud.Target{Kind: cloud.TargetInstance, ID: id})
	}
	_, ids := distinctIDs(targets)
	out := make(map[string]cloud.Target, len(ids))
	err := p.eachInstance(ctx, ids, func(in types.Instance) {
		if eni := primaryENI(in, p.self.VPCID); eni != "" {
			out[awsv2.ToString(in.InstanceId)] = cloud.Target{Kind: cloud.TargetNetworkInterface, ID: eni}
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// primaryENI returns the ENI at device index 0 of a live instance in vpc,
// or "".
func primaryENI(in types.Instance, vpc string) string {
	if in.State != nil && (in.State.Name == types.InstanceStateNameTerminated || in.State.Name == types.InstanceStateNameShuttingDown) {
		return ""
	}
	if awsv2.ToString(in.VpcId) != vpc {
		return ""
	}
	for _, ni := range in.NetworkInterfaces {
		if ni.Attachment != nil && awsv2.ToInt32(ni.Attachment.DeviceIndex) == 0 && awsv2.ToString(ni.VpcId) == vpc {
			return awsv2.ToString(ni.NetworkInterfaceId)
		}
	}
	return ""
}
