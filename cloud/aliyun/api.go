package aliyun

import (
	"context"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/vpc"
)

// vpcAPI is exactly the part of the SDK's VPC client that vpcroute calls,
// each call under a context (sdkVPC, sdkctx.go); deploy/aliyun-ram-policy.json
// grants these actions and ecsAPI's, and no others (policy_test.go holds the
// two together).
type vpcAPI interface {
	DescribeVpcs(context.Context, *vpc.DescribeVpcsRequest) (*vpc.DescribeVpcsResponse, error)
	DescribeVSwitches(context.Context, *vpc.DescribeVSwitchesRequest) (*vpc.DescribeVSwitchesResponse, error)
	DescribeRouteTableList(context.Context, *vpc.DescribeRouteTableListRequest) (*vpc.DescribeRouteTableListResponse, error)
	DescribeRouteEntryList(context.Context, *vpc.DescribeRouteEntryListRequest) (*vpc.DescribeRouteEntryListResponse, error)
	CreateRouteEntry(context.Context, *vpc.CreateRouteEntryRequest) (*vpc.CreateRouteEntryResponse, error)
	CreateRouteEntries(context.Context, *vpc.CreateRouteEntriesRequest) (*vpc.CreateRouteEntriesResponse, error)
	DeleteRouteEntry(context.Context, *vpc.DeleteRouteEntryRequest) (*vpc.DeleteRouteEntryResponse, error)
	DeleteRouteEntries(context.Context, *vpc.DeleteRouteEntriesRequest) (*vpc.DeleteRouteEntriesResponse, error)
}

// ecsAPI is the part of the SDK's ECS client that vpcroute calls: only
// DescribeInstances, to learn whether a route's instance still exists.
type ecsAPI interface {
	DescribeInstances(context.Context, *ecs.DescribeInstancesRequest) (*ecs.DescribeInstancesResponse, error)
}
