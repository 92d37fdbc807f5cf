package aws

import (
	"context"
	"fmt"

	awsv2 "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"go.uber.org/zap"

	"github.com/vpcroute/vpcroute/cloud"
)

// GoneTargets implements cloud.Provider.
//
// A NetworkInterface target is gone when EC2 no longer lists the ENI (a
// primary ENI is deleted with its instance), or when the instance it is
// attached to is terminated or shutting down. An Instance target is gone
// when EC2 does not list it or lists it terminated. Anything else is
// present: a stopped host keeps its routes, and a detached ENI may be
// attached again. Targets of other kinds are never reported gone, and on
// any error nothing is: deletion depends on the answer.
func (p *Provider) GoneTargets(ctx context.Context, targets []cloud.Target) ([]cloud.Target, error) {
	enis, instances := distinctIDs(targets)
	eniPresent := map[string]bool{}
	eniInstance := map[string]string{}
	err := p.eachInterface(ctx, enis, func(ni types.NetworkInterface) {
		id := awsv2.ToString(ni.NetworkInterfaceId)
		eniPresent[id] = true
		if in := instanceOf(ni); in != "" {
			eniInstance[id] = in
		}
	})
	if err != nil {
		return nil, err
	}
	// One lookup for the instance targets and the ENIs' instances.
	lookup := append([]string{}, instances...)
	for _, in := range eniInstance {
		lookup = append(lookup, in)
	}
	states, err := p.instanceStates(ctx, dedupe(lookup))
	if err != nil {
		return nil, err
	}
	var gone []cloud.Target
	seen := map[cloud.Target]bool{}
	for _, t := range targets {
		if seen[t] || !targetGone(t, eniPresent, eniInstance, states) {
			continue
		}
		seen[t] = true
		gone = append(gone, t)
	}
	if len(gone) > 0 {
		p.log.Info("targets confirmed gone", zap.Stringers("targets", gone))
	}
	return gone, nil
}

// targetGone decides one target from what EC2 listed.
func targetGone(t cloud.Target, eniPresent map[string]bool, eniInstance map[string]string, states map[string]types.InstanceStateName) bool {
	switch {
	case t.Kind == cloud.TargetNetworkInterface && eniFormat.Valid(t.ID):
		if !eniPresent[t.ID] {
			return true
		}
		in, attached := eniInstance[t.ID]
		if !attached {
			return false
		}
		s := states[in]
		return s == types.InstanceStateNameTerminated || s == types.InstanceStateNameShuttingDown
	case t.Kind == cloud.TargetInstance && idFormats.Instance.Valid(t.ID):
		s, listed := states[t.ID]
		return !listed || s == types.InstanceStateNameTerminated
	}
	return false
}

// distinctIDs returns the distinct, well-formed ENI and instance IDs of
// targets, in order. A malformed ID is never looked up (and so never
// reported gone).
func distinctIDs(targets []cloud.Target) (enis, instances []string) {
	seen := map[string]bool{}
	for _, t := range targets {
		if seen[t.ID] {
			continue
		}
		switch {
		case t.Kind == cloud.TargetNetworkInterface && eniFormat.Valid(t.ID):
			enis = append(enis, t.ID)
		case t.Kind == cloud.TargetInstance && idFormats.Instance.Valid(t.ID):
			instances = append(instances, t.ID)
		default:
			continue
		}
		seen[t.ID] = true
	}
	return enis, instances
}

func dedupe(ids []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// instanceStates returns the state of each listed instance. With an
// instance-id filter EC2 leaves unknown (long terminated) IDs out instead
// of failing the call.
func (p *Provider) instanceStates(ctx context.Context, ids []string) (map[string]types.InstanceStateName, error) {
	states := map[string]types.InstanceStateName{}
	err := p.eachInstance(ctx, ids, func(in types.Instance) {
		id := awsv2.ToString(in.InstanceId)
		if in.State == nil {
			// A listed instance without a state is in doubt: count it
			// present.
			states[id] = types.InstanceStateNamePending
			return
		}
		states[id] = in.State.Name
	})
	return states, err
}

// eachInstance calls fn with every instance EC2 lists among ids (only
// those asked for), up to 200 IDs per DescribeInstances call (one page:
// pageSize is more).
func (p *Provider) eachInstance(ctx context.Context, ids []string, fn func(types.Instance)) error {
	for start := 0; start < len(ids); start += maxFilterValues {
		chunk := ids[start:min(start+maxFilterValues, len(ids))]
		asked := map[string]bool{}
		for _, id := range chunk {
			asked[id] = true
		}
		var token *string
		for {
			in := &ec2.DescribeInstancesInput{
				Filters:    []types.Filter{{Name: awsv2.String("instance-id"), Values: chunk}},
				MaxResults: awsv2.Int32(pageSize), NextToken: token,
			}
			resp, err := callRetry(ctx, p, "DescribeInstances", func(ctx context.Context) (*ec2.DescribeInstancesOutput, error) {
				return p.api.DescribeInstances(ctx, in)
			})
			if err != nil {
				return fmt.Errorf("look up %d instances in %s (%s...): %w", len(chunk), p.self.Region, chunk[0], err)
			}
			for _, r := range resp.Reservations {
				for _, in := range r.Instances {
					if asked[awsv2.ToString(in.InstanceId)] {
						fn(in)
					}
				}
			}
			if token = nextToken(token, resp.NextToken); token == nil {
				break
			}
		}
	}
	return nil
}
