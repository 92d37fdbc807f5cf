package aliyun

import (
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/vpc"
)

// vpcAPI is exactly the part of the SDK's VPC client that vpcroute calls;
// deploy/aliyun-ram-policy.json grants these actions and ecsAPI's, and no
// others (policy_test.go holds the two together).
type vpcAPI interface {
	DescribeVpcs(*vpc.DescribeVpcsRequest) (*vpc.DescribeVpcsResponse, error)
	DescribeVSwitches(*vpc.DescribeVSwitchesRequest) (*vpc.DescribeVSwitchesResponse, error)
	DescribeRouteTableList(*vpc.DescribeRouteTableListRequest) (*vpc.DescribeRouteTableListResponse, error)
	DescribeRouteEntryList(*vpc.DescribeRouteEntryListRequest) (*vpc.DescribeRouteEntryListResponse, error)
	CreateRouteEntry(*vpc.CreateRouteEntryRequest) (*vpc.CreateRouteEntryResponse, error)
	CreateRouteEntries(*vpc.CreateRouteEntriesRequest) (*vpc.CreateRouteEntriesResponse, error)
	DeleteRouteEntry(*vpc.DeleteRouteEntryRequest) (*vpc.DeleteRouteEntryResponse, error)
	DeleteRouteEntries(*vpc.DeleteRouteEntriesRequest) (*vpc.DeleteRouteEntriesResponse, error)
}

var _ vpcAPI = (*vpc.Client)(nil)

// ecsAPI is the part of the SDK's ECS client that vpcroute calls: only
// DescribeInstances, to learn whether a route's instance still exists.
type ecsAPI interface {
	DescribeInstances(*ecs.DescribeInstancesRequest) (*ecs.DescribeInstancesResponse, error)
}

var _ ecsAPI = (*ecs.Client)(nil)
