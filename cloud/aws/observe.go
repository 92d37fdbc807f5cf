package aws

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/vpcroute/vpcroute/cloud"
)

// The provider reaches the SDK only through observedEC2, which newWithAPI
// puts in front of the client. With the SDK's retryer off, one call here is
// one HTTP attempt, so each is reported once with the answer EC2 gave:
// retries are separate calls, and neither backoff waits nor waits for a
// mutating-call token count in the duration.

// observedEC2 reports every EC2 API call to an observer.
type observedEC2 struct {
	api ec2API
	obs cloud.CallObserver
}

var _ ec2API = observedEC2{}

// DescribeVpcs implements ec2API.
func (o observedEC2) DescribeVpcs(ctx context.Context, in *ec2.DescribeVpcsInput, f ...func(*ec2.Options)) (*ec2.DescribeVpcsOutput, error) {
	return observe(o.obs, "DescribeVpcs", func() (*ec2.DescribeVpcsOutput, error) { return o.api.DescribeVpcs(ctx, in, f...) })
}

// DescribeSubnets implements ec2API.
func (o observedEC2) DescribeSubnets(ctx context.Context, in *ec2.DescribeSubnetsInput, f ...func(*ec2.Options)) (*ec2.DescribeSubnetsOutput, error) {
	return observe(o.obs, "DescribeSubnets", func() (*ec2.DescribeSubnetsOutput, error) { return o.api.DescribeSubnets(ctx, in, f...) })
}

// DescribeRouteTables implements ec2API.
func (o observedEC2) DescribeRouteTables(ctx context.Context, in *ec2.DescribeRouteTablesInput, f ...func(*ec2.Options)) (*ec2.DescribeRouteTablesOutput, error) {
	return observe(o.obs, "DescribeRouteTables", func() (*ec2.DescribeRouteTablesOutput, error) { return o.api.DescribeRouteTables(ctx, in, f...) })
}

// DescribeNetworkInterfaces implements ec2API.
func (o observedEC2) DescribeNetworkInterfaces(ctx context.Context, in *ec2.DescribeNetworkInterfacesInput, f ...func(*ec2.Options)) (*ec2.DescribeNetworkInterfacesOutput, error) {
	return observe(o.obs, "DescribeNetworkInterfaces", func() (*ec2.DescribeNetworkInterfacesOutput, error) {
		return o.api.DescribeNetworkInterfaces(ctx, in, f...)
	})
}

// DescribeNetworkInterfaceAttribute implements ec2API.
func (o observedEC2) DescribeNetworkInterfaceAttribute(ctx context.Context, in *ec2.DescribeNetworkInterfaceAttributeInput, f ...func(*ec2.Options)) (*ec2.DescribeNetworkInterfaceAttributeOutput, error) {
	return observe(o.obs, "DescribeNetworkInterfaceAttribute", func() (*ec2.DescribeNetworkInterfaceAttributeOutput, error) {
		return o.api.DescribeNetworkInterfaceAttribute(ctx, in, f...)
	})
}

// DescribeInstances implements ec2API.
func (o observedEC2) DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, f ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	return observe(o.obs, "DescribeInstances", func() (*ec2.DescribeInstancesOutput, error) { return o.api.DescribeInstances(ctx, in, f...) })
}

// CreateRoute implements ec2API.
func (o observedEC2) CreateRoute(ctx context.Context, in *ec2.CreateRouteInput, f ...func(*ec2.Options)) (*ec2.CreateRouteOutput, error) {
	return observe(o.obs, "CreateRoute", func() (*ec2.CreateRouteOutput, error) { return o.api.CreateRoute(ctx, in, f...) })
}

// ReplaceRoute implements ec2API.
func (o observedEC2) ReplaceRoute(ctx context.Context, in *ec2.ReplaceRouteInput, f ...func(*ec2.Options)) (*ec2.ReplaceRouteOutput, error) {
	return observe(o.obs, "ReplaceRoute", func() (*ec2.ReplaceRouteOutput, error) { return o.api.ReplaceRoute(ctx, in, f...) })
}

// DeleteRoute implements ec2API.
func (o observedEC2) DeleteRoute(ctx context.Context, in *ec2.DeleteRouteInput, f ...func(*ec2.Options)) (*ec2.DeleteRouteOutput, error) {
	return observe(o.obs, "DeleteRoute", func() (*ec2.DeleteRouteOutput, error) { return o.api.DeleteRoute(ctx, in, f...) })
}

// CreateTags implements ec2API.
func (o observedEC2) CreateTags(ctx context.Context, in *ec2.CreateTagsInput, f ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error) {
	return observe(o.obs, "CreateTags", func() (*ec2.CreateTagsOutput, error) { return o.api.CreateTags(ctx, in, f...) })
}

// ModifyNetworkInterfaceAttribute implements ec2API.
func (o observedEC2) ModifyNetworkInterfaceAttribute(ctx context.Context, in *ec2.ModifyNetworkInterfaceAttributeInput, f ...func(*ec2.Options)) (*ec2.ModifyNetworkInterfaceAttributeOutput, error) {
	return observe(o.obs, "ModifyNetworkInterfaceAttribute", func() (*ec2.ModifyNetworkInterfaceAttributeOutput, error) {
		return o.api.ModifyNetworkInterfaceAttribute(ctx, in, f...)
	})
}

// observe runs one call and reports its action, outcome and duration.
func observe[T any](obs cloud.CallObserver, action string, call func() (T, error)) (T, error) {
	start := time.Now()
	v, err := call()
	obs.ObserveCall(action, outcomeOf(action, err), time.Since(start))
	return v, err
}

// outcomeOf classifies a call's error as one of the cloud.Outcome* values.
// EC2 has no "busy" answer: route changes do not conflict with each other.
func outcomeOf(action string, err error) string {
	switch {
	case err == nil:
		return cloud.OutcomeOK
	case throttled(wrapSDKError(action, err)):
		return cloud.OutcomeThrottled
	}
	return cloud.OutcomeError
}
