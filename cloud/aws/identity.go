package aws

import (
	"context"
	"fmt"
	"net/netip"

	awsv2 "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"go.uber.org/zap"

	"github.com/vpcroute/vpcroute/cloud"
)

// Without instance metadata (IMDS turned off, blocked by a hop limit, or
// AWS_EC2_METADATA_DISABLED=true) a host that is told its instance ID and
// region can still learn the rest of its identity from EC2 itself:
// DescribeInstances gives its private address, its VPC and its primary
// network interface. The region cannot come from there: the API is
// regional.

// identityFallback reports whether what metadata could not say may be read
// with DescribeInstances: only when the instance ID was given.
func identityFallback(opts Options, mdErr error) bool {
	return mdErr != nil && opts.InstanceID != ""
}

// regionWithoutMetadata is the region of a host whose metadata failed:
// the option, else the SDK's (AWS_REGION, the shared config).
func regionWithoutMetadata(self cloud.Instance, sdkRegion string, mdErr error) (string, error) {
	if self.Region != "" {
		return self.Region, nil
	}
	if sdkRegion != "" {
		return sdkRegion, nil
	}
	return "", fmt.Errorf("region is unknown: instance metadata cannot say it (%v); expected --region or AWS_REGION", mdErr)
}

// describeSelf completes self, which names its instance and region, from
// DescribeInstances: the private address, the VPC and the primary network
// interface (device index 0) where the options left them out.
func (p *Provider) describeSelf(ctx context.Context, self cloud.Instance, mdErr error) (cloud.Instance, error) {
	p.log.Info("instance metadata unavailable: reading this host's identity with DescribeInstances",
		zap.String("instance", self.ID), zap.String("region", self.Region), zap.String("metadata", mdErr.Error()))
	var found []types.Instance
	if err := p.eachInstance(ctx, []string{self.ID}, func(in types.Instance) { found = append(found, in) }); err != nil {
		return self, fmt.Errorf("identity: %w", err)
	}
	if len(found) != 1 {
		return self, fmt.Errorf("identity: instance-id %q is not an instance in %s (DescribeInstances lists %d); expected this host's instance ID",
			self.ID, self.Region, len(found))
	}
	return identityFromInstance(self, p.opts.NetworkInterfaceID, found[0])
}

// identityFromInstance fills what self and eni lack from an instance as
// DescribeInstances lists it.
func identityFromInstance(self cloud.Instance, eni string, in types.Instance) (cloud.Instance, error) {
	if in.State != nil && (in.State.Name == types.InstanceStateNameTerminated || in.State.Name == types.InstanceStateNameShuttingDown) {
		return self, fmt.Errorf("identity: instance-id %q is %s; expected this host's running instance", self.ID, in.State.Name)
	}
	if !self.PrivateIP.IsValid() {
		v := awsv2.ToString(in.PrivateIpAddress)
		ip, err := netip.ParseAddr(v)
		if err != nil || !ip.Is4() {
			return self, fmt.Errorf("identity: DescribeInstances gives %s the private address %q, not an IPv4 address; expected --private-ip", self.ID, v)
		}
		self.PrivateIP = ip
	}
	if self.VPCID == "" {
		if self.VPCID = awsv2.ToString(in.VpcId); self.VPCID == "" {
			return self, fmt.Errorf("identity: DescribeInstances gives %s no VPC; expected --vpc-id", self.ID)
		}
	}
	if eni == "" {
		for _, ni := range in.NetworkInterfaces {
			if ni.Attachment != nil && awsv2.ToInt32(ni.Attachment.DeviceIndex) == 0 {
				eni = awsv2.ToString(ni.NetworkInterfaceId)
			}
		}
		if eni == "" {
			return self, fmt.Errorf("identity: DescribeInstances gives %s no primary network interface (device index 0); expected --network-interface-id", self.ID)
		}
	}
	return completeIdentity(self, eni, "DescribeInstances")
}

// completeIdentity checks an identity read from source as a flag would be
// checked, and points the host's routes at eni.
func completeIdentity(self cloud.Instance, eni, source string) (cloud.Instance, error) {
	check := Options{Settings: cloud.Settings{Region: self.Region, InstanceID: self.ID, VPCID: self.VPCID}, NetworkInterfaceID: eni}
	if err := check.Validate(); err != nil {
		return self, fmt.Errorf("identity from %s: %w", source, err)
	}
	self.Target = cloud.Target{Kind: cloud.TargetNetworkInterface, ID: eni}
	return self, nil
}
