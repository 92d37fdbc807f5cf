package aliyun

import (
	"context"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
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
// The seam also gives every call its context (sdkctx.go), which the SDK's
// own methods do not take.

// seam is what both observed clients need around a call.
type seam struct {
	obs   cloud.CallObserver
	calls *callContexts
}

// observedVPC runs every VPC API call under its context and reports it to
// an observer.
type observedVPC struct {
	api vpcAPI
	seam
}

// DescribeVpcs calls vpcAPI's.
func (o observedVPC) DescribeVpcs(ctx context.Context, r *vpc.DescribeVpcsRequest) (*vpc.DescribeVpcsResponse, error) {
	return observe(ctx, o.seam, "DescribeVpcs", r, o.api.DescribeVpcs)
}

// DescribeVSwitches calls vpcAPI's.
func (o observedVPC) DescribeVSwitches(ctx context.Context, r *vpc.DescribeVSwitchesRequest) (*vpc.DescribeVSwitchesResponse, error) {
	return observe(ctx, o.seam, "DescribeVSwitches", r, o.api.DescribeVSwitches)
}

// DescribeRouteTableList calls vpcAPI's.
func (o observedVPC) DescribeRouteTableList(ctx context.Context, r *vpc.DescribeRouteTableListRequest) (*vpc.DescribeRouteTableListResponse, error) {
	return observe(ctx, o.seam, "DescribeRouteTableList", r, o.api.DescribeRouteTableList)
}

// DescribeRouteEntryList calls vpcAPI's.
func (o observedVPC) DescribeRouteEntryList(ctx context.Context, r *vpc.DescribeRouteEntryListRequest) (*vpc.DescribeRouteEntryListResponse, error) {
	return observe(ctx, o.seam, "DescribeRouteEntryList", r, o.api.DescribeRouteEntryList)
}

// CreateRouteEntry calls vpcAPI's.
func (o observedVPC) CreateRouteEntry(ctx context.Context, r *vpc.CreateRouteEntryRequest) (*vpc.CreateRouteEntryResponse, error) {
	return observe(ctx, o.seam, "CreateRouteEntry", r, o.api.CreateRouteEntry)
}

// CreateRouteEntries calls vpcAPI's.
func (o observedVPC) CreateRouteEntries(ctx context.Context, r *vpc.CreateRouteEntriesRequest) (*vpc.CreateRouteEntriesResponse, error) {
	return observe(ctx, o.seam, "CreateRouteEntries", r, o.api.CreateRouteEntries)
}

// DeleteRouteEntry calls vpcAPI's.
func (o observedVPC) DeleteRouteEntry(ctx context.Context, r *vpc.DeleteRouteEntryRequest) (*vpc.DeleteRouteEntryResponse, error) {
	return observe(ctx, o.seam, "DeleteRouteEntry", r, o.api.DeleteRouteEntry)
}

// DeleteRouteEntries calls vpcAPI's.
func (o observedVPC) DeleteRouteEntries(ctx context.Context, r *vpc.DeleteRouteEntriesRequest) (*vpc.DeleteRouteEntriesResponse, error) {
	return observe(ctx, o.seam, "DeleteRouteEntries", r, o.api.DeleteRouteEntries)
}

// observedECS runs every ECS API call under its context and reports it to
// an observer.
type observedECS struct {
	api ecsAPI
	seam
}

// DescribeInstances calls ecsAPI's.
func (o observedECS) DescribeInstances(ctx context.Context, r *ecs.DescribeInstancesRequest) (*ecs.DescribeInstancesResponse, error) {
	return observe(ctx, o.seam, "DescribeInstances", r, o.api.DescribeInstances)
}

// observe runs one call under ctx and reports its action, outcome and
// duration.
func observe[Req requests.AcsRequest, Resp any](ctx context.Context, s seam, action string, req Req,
	call func(Req) (Resp, error)) (Resp, error) {
	start := time.Now()
	v, err := boundCall(ctx, s.calls, req, call)
	s.obs.ObserveCall(action, outcomeOf(action, err), time.Since(start))
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
