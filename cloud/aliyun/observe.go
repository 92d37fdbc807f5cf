package aliyun

import (
	"context"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/vpc"

	"github.com/vpcroute/vpcroute/cloud"
)

// The provider reaches the SDK only through observedVPC and observedECS,
// which newWithAPI puts in front of the clients. Observing at this seam,
// rather than in callRetry, reports each HTTP call exactly once with the
// answer the cloud gave: retries are separate calls, backoff waits are not
// counted in the duration, and a batch answer listing failed entries is
// still an "ok" call (its entries are reported in the caller's error).

// observedVPC reports every VPC API call to an observer.
type observedVPC struct {
	api vpcAPI
	obs cloud.CallObserver
}

var _ vpcAPI = observedVPC{}

// DescribeVpcs implements vpcAPI.
func (o observedVPC) DescribeVpcs(ctx context.Context, r *vpc.DescribeVpcsRequest) (*vpc.DescribeVpcsResponse, error) {
	return observe(o.obs, "DescribeVpcs", func() (*vpc.DescribeVpcsResponse, error) { return o.api.DescribeVpcs(ctx, r) })
}

// DescribeVSwitches implements vpcAPI.
func (o observedVPC) DescribeVSwitches(ctx context.Context, r *vpc.DescribeVSwitchesRequest) (*vpc.DescribeVSwitchesResponse, error) {
	return observe(o.obs, "DescribeVSwitches", func() (*vpc.DescribeVSwitchesResponse, error) { return o.api.DescribeVSwitches(ctx, r) })
}

// DescribeRouteTableList implements vpcAPI.
func (o observedVPC) DescribeRouteTableList(ctx context.Context, r *vpc.DescribeRouteTableListRequest) (*vpc.DescribeRouteTableListResponse, error) {
	return observe(o.obs, "DescribeRouteTableList", func() (*vpc.DescribeRouteTableListResponse, error) {
		return o.api.DescribeRouteTableList(ctx, r)
	})
}

// DescribeRouteEntryList implements vpcAPI.
func (o observedVPC) DescribeRouteEntryList(ctx context.Context, r *vpc.DescribeRouteEntryListRequest) (*vpc.DescribeRouteEntryListResponse, error) {
	return observe(o.obs, "DescribeRouteEntryList", func() (*vpc.DescribeRouteEntryListResponse, error) {
		return o.api.DescribeRouteEntryList(ctx, r)
	})
}

// CreateRouteEntry implements vpcAPI.
func (o observedVPC) CreateRouteEntry(ctx context.Context, r *vpc.CreateRouteEntryRequest) (*vpc.CreateRouteEntryResponse, error) {
	return observe(o.obs, "CreateRouteEntry", func() (*vpc.CreateRouteEntryResponse, error) { return o.api.CreateRouteEntry(ctx, r) })
}

// CreateRouteEntries implements vpcAPI.
func (o observedVPC) CreateRouteEntries(ctx context.Context, r *vpc.CreateRouteEntriesRequest) (*vpc.CreateRouteEntriesResponse, error) {
	return observe(o.obs, "CreateRouteEntries", func() (*vpc.CreateRouteEntriesResponse, error) { return o.api.CreateRouteEntries(ctx, r) })
}

// DeleteRouteEntry implements vpcAPI.
func (o observedVPC) DeleteRouteEntry(ctx context.Context, r *vpc.DeleteRouteEntryRequest) (*vpc.DeleteRouteEntryResponse, error) {
	return observe(o.obs, "DeleteRouteEntry", func() (*vpc.DeleteRouteEntryResponse, error) { return o.api.DeleteRouteEntry(ctx, r) })
}

// DeleteRouteEntries implements vpcAPI.
func (o observedVPC) DeleteRouteEntries(ctx context.Context, r *vpc.DeleteRouteEntriesRequest) (*vpc.DeleteRouteEntriesResponse, error) {
	return observe(o.obs, "DeleteRouteEntries", func() (*vpc.DeleteRouteEntriesResponse, error) { return o.api.DeleteRouteEntries(ctx, r) })
}

// observedECS reports every ECS API call to an observer.
type observedECS struct {
	api ecsAPI
	obs cloud.CallObserver
}

var _ ecsAPI = observedECS{}

// DescribeInstances implements ecsAPI.
func (o observedECS) DescribeInstances(ctx context.Context, r *ecs.DescribeInstancesRequest) (*ecs.DescribeInstancesResponse, error) {
	return observe(o.obs, "DescribeInstances", func() (*ecs.DescribeInstancesResponse, error) { return o.api.DescribeInstances(ctx, r) })
}

// observe runs one call and reports its action, outcome and duration.
func observe[T any](obs cloud.CallObserver, action string, call func() (T, error)) (T, error) {
	start := time.Now()
	v, err := call()
	obs.ObserveCall(action, outcomeOf(action, err), time.Since(start))
	return v, err
}

// outcomeOf classifies a call's error as one of the cloud.Outcome* values.
func outcomeOf(action string, err error) string {
	if err == nil {
		return cloud.OutcomeOK
	}
	code := codeOf(wrapSDKError(action, err))
	switch {
	case throttledCode(code):
		return cloud.OutcomeThrottled
	case busyCode(code):
		return cloud.OutcomeBusy
	}
	return cloud.OutcomeError
}
