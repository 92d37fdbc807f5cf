package aws

import (
	"context"
	"fmt"
	"time"

	awsv2 "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"go.uber.org/zap"
)

// PrepareHost implements cloud.HostPreparer for this host's primary ENI:
//
//   - it tags the ENI vpcroute:cluster=<Options.Cluster> when the tag is missing,
//     which is what makes routes to it recognisable as the cluster's;
//   - it turns the ENI's source/destination check off and reads it back:
//     with the check on, EC2 silently drops every forwarded packet whose
//     addresses are not the ENI's own, i.e. all container traffic.
//
// Both are skipped when already so; a provider remembers success, so the
// daemon's periodic call sends nothing more. An ENI already tagged for
// another cluster is an error: a host belongs to one cluster, and taking
// it over would hand that cluster's routes to this one.
func (p *Provider) PrepareHost(ctx context.Context) error {
	cluster := p.opts.Cluster
	if err := p.checkCluster("prepare the host for"); err != nil {
		return err
	}
	p.prepareMu.Lock()
	defer p.prepareMu.Unlock()
	if p.prepared {
		return nil
	}
	eni := p.self.Target.ID
	ni, err := p.describeInterface(ctx, eni)
	if err != nil {
		return err
	}
	if attached := instanceOf(ni); p.self.ID != "" && attached != "" && attached != p.self.ID {
		return fmt.Errorf("network interface %s is attached to %s, not to this instance %s: give this host's primary ENI as --network-interface-id", eni, attached, p.self.ID)
	}
	tagged := false
	switch tag := tagValue(ni.TagSet, TagKey); tag {
	case cluster:
	case "":
		if err := p.tagInterface(ctx, eni, cluster); err != nil {
			return err
		}
		tagged = true
	default:
		return fmt.Errorf("network interface %s is tagged %s=%s: this host belongs to vpcroute cluster %q; remove the tag (after `vpcroute sync --remove` there) to move it to %q",
			eni, TagKey, tag, tag, cluster)
	}
	if err := p.disableSourceDestCheck(ctx, eni, tagged); err != nil {
		return err
	}
	p.prepared = true
	return nil
}

// describeInterface reads one ENI.
func (p *Provider) describeInterface(ctx context.Context, eni string) (types.NetworkInterface, error) {
	var found *types.NetworkInterface
	err := p.eachInterface(ctx, []string{eni}, func(ni types.NetworkInterface) { found = &ni })
	if err != nil {
		return types.NetworkInterface{}, fmt.Errorf("prepare %s: %w", eni, err)
	}
	if found == nil {
		return types.NetworkInterface{}, fmt.Errorf("prepare %s: the network interface was not found in region %s", eni, p.self.Region)
	}
	return *found, nil
}

// instanceOf returns the instance an ENI is attached to, or "".
func instanceOf(ni types.NetworkInterface) string {
	if ni.Attachment == nil {
		return ""
	}
	return awsv2.ToString(ni.Attachment.InstanceId)
}

// tagInterface marks the ENI as the cluster's.
func (p *Provider) tagInterface(ctx context.Context, eni, cluster string) error {
	in := &ec2.CreateTagsInput{Resources: []string{eni},
		Tags: []types.Tag{{Key: awsv2.String(TagKey), Value: awsv2.String(cluster)}}}
	p.log.Info("tagging this host's network interface", zap.String("eni", eni), zap.String("tag", TagKey+"="+cluster))
	_, err := callRetry(ctx, p, "CreateTags", func(ctx context.Context) (*ec2.CreateTagsOutput, error) {
		return p.api.CreateTags(ctx, in)
	})
	if err != nil {
		return fmt.Errorf("tag %s with %s=%s: %w", eni, TagKey, cluster, err)
	}
	return nil
}

// disableSourceDestCheck turns the check off unless it is off already, and
// verifies the result.
func (p *Provider) disableSourceDestCheck(ctx context.Context, eni string, justTagged bool) error {
	on, err := p.sourceDestCheck(ctx, eni)
	if err != nil || !on {
		return err
	}
	in := &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: awsv2.String(eni),
		SourceDestCheck: &types.AttributeBooleanValue{Value: awsv2.Bool(false)}}
	p.log.Info("turning the source/destination check off", zap.String("eni", eni))
	modify := func(ctx context.Context) (*ec2.ModifyNetworkInterfaceAttributeOutput, error) {
		return p.api.ModifyNetworkInterfaceAttribute(ctx, in)
	}
	_, err = callRetry(ctx, p, "ModifyNetworkInterfaceAttribute", modify)
	// deploy/aws-iam-policy.json allows the change only on an interface
	// tagged for vpcroute. Right after tagging, IAM may not see the tag
	// yet: give it a few seconds before calling it a denial.
	for wait := time.Second; justTagged && codeOf(err) == codeUnauthorized && wait <= 8*time.Second; wait *= 2 {
		p.log.Warn("not yet authorized to change the interface just tagged; retrying", zap.String("eni", eni), zap.Duration("wait", wait))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		_, err = callRetry(ctx, p, "ModifyNetworkInterfaceAttribute", modify)
	}
	if err != nil {
		return fmt.Errorf("turn the source/destination check of %s off: %w", eni, err)
	}
	if on, err = p.sourceDestCheck(ctx, eni); err != nil {
		return err
	}
	if on {
		return fmt.Errorf("the source/destination check of %s is still on after it was turned off: forwarded container traffic would be dropped", eni)
	}
	return nil
}

// sourceDestCheck reads the ENI's source/destination check.
func (p *Provider) sourceDestCheck(ctx context.Context, eni string) (bool, error) {
	in := &ec2.DescribeNetworkInterfaceAttributeInput{NetworkInterfaceId: awsv2.String(eni),
		Attribute: types.NetworkInterfaceAttributeSourceDestCheck}
	out, err := callRetry(ctx, p, "DescribeNetworkInterfaceAttribute", func(ctx context.Context) (*ec2.DescribeNetworkInterfaceAttributeOutput, error) {
		return p.api.DescribeNetworkInterfaceAttribute(ctx, in)
	})
	if err != nil {
		return false, fmt.Errorf("read the source/destination check of %s: %w", eni, err)
	}
	if out.SourceDestCheck == nil || out.SourceDestCheck.Value == nil {
		return false, fmt.Errorf("read the source/destination check of %s: the answer does not say", eni)
	}
	return *out.SourceDestCheck.Value, nil
}

// SourceDestCheck reports whether this host's ENI still has its
// source/destination check on (then EC2 drops the container traffic the
// host forwards). It only reads; `vpcroute doctor` asks it.
func (p *Provider) SourceDestCheck(ctx context.Context) (iface string, on bool, err error) {
	eni := p.self.Target.ID
	on, err = p.sourceDestCheck(ctx, eni)
	return eni, on, err
}
