package aws

import (
	"context"
	"slices"
	"strings"

	awsv2 "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/vpcroute/vpcroute/cloud"
)

// InstanceTargets implements cloud.Provider. On EC2 a route to a host
// points at an ENI attached to its instance, as EC2 lists it: the one the
// host states (--network-interface-id) when it is attached to that
// instance, else the primary ENI (device index 0). An instance EC2 does
// not list, lists terminated or shutting down, lists in another VPC, or
// lists without a primary ENI is left out; malformed IDs are never sent.
func (p *Provider) InstanceTargets(ctx context.Context, claims map[string]cloud.Target) (map[string]cloud.Target, error) {
	targets := make([]cloud.Target, 0, len(claims))
	for id := range claims {
		targets = append(targets, cloud.Target{Kind: cloud.TargetInstance, ID: id})
	}
	slices.SortFunc(targets, func(a, b cloud.Target) int { return strings.Compare(a.ID, b.ID) })
	_, ids := distinctIDs(targets)
	out := make(map[string]cloud.Target, len(ids))
	err := p.eachInstance(ctx, ids, func(in types.Instance) {
		id := awsv2.ToString(in.InstanceId)
		stated := ""
		if t := claims[id]; t.Kind == cloud.TargetNetworkInterface {
			stated = t.ID
		}
		if eni := instanceENI(in, p.self.VPCID, stated); eni != "" {
			out[id] = cloud.Target{Kind: cloud.TargetNetworkInterface, ID: eni}
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// instanceENI returns, for a live instance in vpc, the ENI stated when it
// is attached to the instance, else its ENI at device index 0, or "".
func instanceENI(in types.Instance, vpc, stated string) string {
	if in.State != nil && (in.State.Name == types.InstanceStateNameTerminated || in.State.Name == types.InstanceStateNameShuttingDown) {
		return ""
	}
	if awsv2.ToString(in.VpcId) != vpc {
		return ""
	}
	primary := ""
	for _, ni := range in.NetworkInterfaces {
		if ni.Attachment == nil || awsv2.ToString(ni.VpcId) != vpc {
			continue
		}
		id := awsv2.ToString(ni.NetworkInterfaceId)
		if stated != "" && id == stated {
			return id
		}
		if awsv2.ToInt32(ni.Attachment.DeviceIndex) == 0 {
			primary = id
		}
	}
	return primary
}
