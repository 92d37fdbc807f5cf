package aws

import (
	"context"
	"maps"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	awsv2 "github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/vpcroute/vpcroute/cloud"
)

// fakeEC2 is an in-memory ec2API for unit tests of the provider's logic:
// route tables, ENIs with tags and source/dest check, instance states, a
// route limit and injected failures. The simulator tests (sim_test.go)
// run the same logic through the real SDK and HTTP.
type fakeEC2 struct {
	mu        sync.Mutex
	tables    map[string]*types.RouteTable
	enis      map[string]*types.NetworkInterface
	instances map[string]types.InstanceStateName
	limit     int
	calls     map[string]int
	// fail, when set, may answer a call with an error instead.
	fail func(action string) error
}

func newFake() *fakeEC2 {
	return &fakeEC2{
		tables:    map[string]*types.RouteTable{},
		enis:      map[string]*types.NetworkInterface{},
		instances: map[string]types.InstanceStateName{},
		limit:     50,
		calls:     map[string]int{},
	}
}

// apiErr builds the error chain the SDK returns for an EC2 error answer.
func apiErr(action string, status int, code, msg string) error {
	return &smithy.OperationError{ServiceID: "EC2", OperationName: action, Err: &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
			Err:      &smithy.GenericAPIError{Code: code, Message: msg},
		},
		RequestID: "req-" + code,
	}}
}

func (f *fakeEC2) enter(action string) error {
	f.mu.Lock()
	f.calls[action]++
	fail := f.fail
	f.mu.Unlock()
	if fail != nil {
		if err := fail(action); err != nil {
			return err
		}
	}
	f.mu.Lock()
	return nil
}

func (f *fakeEC2) count(action string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[action]
}

func (f *fakeEC2) writes() int {
	n := 0
	for a := range mutating {
		n += f.count(a)
	}
	return n
}

func (f *fakeEC2) addTable(id string, routes ...types.Route) {
	local := types.Route{DestinationCidrBlock: awsv2.String("172.31.0.0/16"), GatewayId: awsv2.String("local"),
		Origin: types.RouteOriginCreateRouteTable, State: types.RouteStateActive}
	f.tables[id] = &types.RouteTable{RouteTableId: awsv2.String(id), VpcId: awsv2.String("vpc-test"),
		Routes: append([]types.Route{local}, routes...)}
}

func (f *fakeEC2) addENI(id, instance, cluster string) {
	ni := &types.NetworkInterface{NetworkInterfaceId: awsv2.String(id), SourceDestCheck: awsv2.Bool(true)}
	if instance != "" {
		ni.Attachment = &types.NetworkInterfaceAttachment{InstanceId: awsv2.String(instance), DeviceIndex: awsv2.Int32(0)}
		if _, ok := f.instances[instance]; !ok {
			f.instances[instance] = types.InstanceStateNameRunning
		}
	}
	if cluster != "" {
		ni.TagSet = []types.Tag{{Key: awsv2.String(TagKey), Value: awsv2.String(cluster)}}
	}
	f.enis[id] = ni
}

func created(dst, eni string) types.Route {
	return types.Route{DestinationCidrBlock: awsv2.String(dst), NetworkInterfaceId: awsv2.String(eni),
		Origin: types.RouteOriginCreateRoute, State: types.RouteStateActive}
}

func (f *fakeEC2) DescribeVpcs(_ context.Context, in *ec2.DescribeVpcsInput, _ ...func(*ec2.Options)) (*ec2.DescribeVpcsOutput, error) {
	if err := f.enter("DescribeVpcs"); err != nil {
		return nil, err
	}
	defer f.mu.Unlock()
	return &ec2.DescribeVpcsOutput{Vpcs: []types.Vpc{{VpcId: awsv2.String("vpc-test"), CidrBlock: awsv2.String("172.31.0.0/16"),
		CidrBlockAssociationSet: []types.VpcCidrBlockAssociation{
			{CidrBlock: awsv2.String("172.31.0.0/16"), CidrBlockState: &types.VpcCidrBlockState{State: types.VpcCidrBlockStateCodeAssociated}},
			{CidrBlock: awsv2.String("100.64.0.0/16"), CidrBlockState: &types.VpcCidrBlockState{State: types.VpcCidrBlockStateCodeAssociated}},
			{CidrBlock: awsv2.String("100.65.0.0/16"), CidrBlockState: &types.VpcCidrBlockState{State: types.VpcCidrBlockStateCodeDisassociated}},
		}}}}, nil
}

func (f *fakeEC2) DescribeSubnets(_ context.Context, _ *ec2.DescribeSubnetsInput, _ ...func(*ec2.Options)) (*ec2.DescribeSubnetsOutput, error) {
	if err := f.enter("DescribeSubnets"); err != nil {
		return nil, err
	}
	defer f.mu.Unlock()
	return &ec2.DescribeSubnetsOutput{Subnets: []types.Subnet{{SubnetId: awsv2.String("subnet-a"), CidrBlock: awsv2.String("172.31.1.0/24")}}}, nil
}

func (f *fakeEC2) DescribeRouteTables(_ context.Context, in *ec2.DescribeRouteTablesInput, _ ...func(*ec2.Options)) (*ec2.DescribeRouteTablesOutput, error) {
	if err := f.enter("DescribeRouteTables"); err != nil {
		return nil, err
	}
	defer f.mu.Unlock()
	var out []types.RouteTable
	for id, t := range f.tables {
		if len(in.RouteTableIds) > 0 && !slices.Contains(in.RouteTableIds, id) {
			continue
		}
		cp := *t
		cp.Routes = slices.Clone(t.Routes)
		out = append(out, cp)
	}
	slices.SortFunc(out, func(a, b types.RouteTable) int { return compareStr(*a.RouteTableId, *b.RouteTableId) })
	return &ec2.DescribeRouteTablesOutput{RouteTables: out}, nil
}

func compareStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (f *fakeEC2) DescribeNetworkInterfaces(_ context.Context, in *ec2.DescribeNetworkInterfacesInput, _ ...func(*ec2.Options)) (*ec2.DescribeNetworkInterfacesOutput, error) {
	if err := f.enter("DescribeNetworkInterfaces"); err != nil {
		return nil, err
	}
	defer f.mu.Unlock()
	var out []types.NetworkInterface
	for _, id := range slices.Sorted(maps.Keys(f.enis)) {
		if matches(in.Filters, id, f.enis[id].TagSet) {
			out = append(out, *f.enis[id])
		}
	}
	return &ec2.DescribeNetworkInterfacesOutput{NetworkInterfaces: out}, nil
}

// matches applies the filters the provider uses on ENIs: by ID, by VPC
// (every fake ENI is in vpc-test) and by tag.
func matches(filters []types.Filter, id string, tags []types.Tag) bool {
	for _, fl := range filters {
		name := awsv2.ToString(fl.Name)
		switch {
		case name == "network-interface-id":
			if !slices.Contains(fl.Values, id) {
				return false
			}
		case name == "vpc-id":
			if !slices.Contains(fl.Values, "vpc-test") {
				return false
			}
		case strings.HasPrefix(name, "tag:"):
			if !slices.Contains(fl.Values, tagValue(tags, strings.TrimPrefix(name, "tag:"))) {
				return false
			}
		default:
			panic("fakeEC2: unexpected filter " + name)
		}
	}
	return true
}

func (f *fakeEC2) DescribeNetworkInterfaceAttribute(_ context.Context, in *ec2.DescribeNetworkInterfaceAttributeInput, _ ...func(*ec2.Options)) (*ec2.DescribeNetworkInterfaceAttributeOutput, error) {
	if err := f.enter("DescribeNetworkInterfaceAttribute"); err != nil {
		return nil, err
	}
	defer f.mu.Unlock()
	ni, ok := f.enis[*in.NetworkInterfaceId]
	if !ok {
		return nil, apiErr("DescribeNetworkInterfaceAttribute", 400, "InvalidNetworkInterfaceID.NotFound", "no such ENI")
	}
	return &ec2.DescribeNetworkInterfaceAttributeOutput{SourceDestCheck: &types.AttributeBooleanValue{Value: awsv2.Bool(*ni.SourceDestCheck)}}, nil
}

func (f *fakeEC2) DescribeInstances(_ context.Context, in *ec2.DescribeInstancesInput, _ ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	if err := f.enter("DescribeInstances"); err != nil {
		return nil, err
	}
	defer f.mu.Unlock()
	var r types.Reservation
	for _, id := range in.Filters[0].Values {
		if s, ok := f.instances[id]; ok {
			r.Instances = append(r.Instances, types.Instance{InstanceId: awsv2.String(id), State: &types.InstanceState{Name: s}})
		}
	}
	return &ec2.DescribeInstancesOutput{Reservations: []types.Reservation{r}}, nil
}

// find returns the index of the route with destination dst in table, or -1.
func (f *fakeEC2) find(table, dst string) (*types.RouteTable, int, error) {
	t, ok := f.tables[table]
	if !ok {
		return nil, -1, apiErr("", 400, "InvalidRouteTableID.NotFound", "no such table")
	}
	want := netip.MustParsePrefix(dst).Masked().String()
	for i, r := range t.Routes {
		if r.DestinationCidrBlock != nil && *r.DestinationCidrBlock == want {
			return t, i, nil
		}
	}
	return t, -1, nil
}

func (f *fakeEC2) CreateRoute(_ context.Context, in *ec2.CreateRouteInput, _ ...func(*ec2.Options)) (*ec2.CreateRouteOutput, error) {
	if err := f.enter("CreateRoute"); err != nil {
		return nil, err
	}
	defer f.mu.Unlock()
	t, i, err := f.find(*in.RouteTableId, *in.DestinationCidrBlock)
	switch {
	case err != nil:
		return nil, err
	case i >= 0:
		return nil, apiErr("CreateRoute", 400, codeRouteExists, "The route identified by "+*in.DestinationCidrBlock+" already exists.")
	case len(t.Routes) >= f.limit:
		return nil, apiErr("CreateRoute", 400, codeRouteLimit, "The maximum number of routes has been reached.")
	}
	t.Routes = append(t.Routes, created(*in.DestinationCidrBlock, *in.NetworkInterfaceId))
	return &ec2.CreateRouteOutput{Return: awsv2.Bool(true)}, nil
}

func (f *fakeEC2) ReplaceRoute(_ context.Context, in *ec2.ReplaceRouteInput, _ ...func(*ec2.Options)) (*ec2.ReplaceRouteOutput, error) {
	if err := f.enter("ReplaceRoute"); err != nil {
		return nil, err
	}
	defer f.mu.Unlock()
	t, i, err := f.find(*in.RouteTableId, *in.DestinationCidrBlock)
	switch {
	case err != nil:
		return nil, err
	case i < 0:
		// What EC2 answers; InvalidRoute.NotFound is DeleteRoute's answer.
		return nil, apiErr("ReplaceRoute", 400, "InvalidParameterValue",
			"There is no route defined for '"+*in.DestinationCidrBlock+"' in the route table. Use CreateRoute instead.")
	}
	t.Routes[i] = created(*in.DestinationCidrBlock, *in.NetworkInterfaceId)
	return &ec2.ReplaceRouteOutput{}, nil
}

func (f *fakeEC2) DeleteRoute(_ context.Context, in *ec2.DeleteRouteInput, _ ...func(*ec2.Options)) (*ec2.DeleteRouteOutput, error) {
	if err := f.enter("DeleteRoute"); err != nil {
		return nil, err
	}
	defer f.mu.Unlock()
	t, i, err := f.find(*in.RouteTableId, *in.DestinationCidrBlock)
	switch {
	case err != nil:
		return nil, err
	case i < 0:
		return nil, apiErr("DeleteRoute", 400, codeRouteNotFound, "no route with destination-cidr-block "+*in.DestinationCidrBlock)
	}
	t.Routes = slices.Delete(t.Routes, i, i+1)
	return &ec2.DeleteRouteOutput{}, nil
}

func (f *fakeEC2) CreateTags(_ context.Context, in *ec2.CreateTagsInput, _ ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error) {
	if err := f.enter("CreateTags"); err != nil {
		return nil, err
	}
	defer f.mu.Unlock()
	for _, id := range in.Resources {
		ni, ok := f.enis[id]
		if !ok {
			return nil, apiErr("CreateTags", 400, "InvalidNetworkInterfaceID.NotFound", "no such ENI")
		}
		ni.TagSet = append(ni.TagSet, in.Tags...)
	}
	return &ec2.CreateTagsOutput{}, nil
}

func (f *fakeEC2) ModifyNetworkInterfaceAttribute(_ context.Context, in *ec2.ModifyNetworkInterfaceAttributeInput, _ ...func(*ec2.Options)) (*ec2.ModifyNetworkInterfaceAttributeOutput, error) {
	if err := f.enter("ModifyNetworkInterfaceAttribute"); err != nil {
		return nil, err
	}
	defer f.mu.Unlock()
	ni, ok := f.enis[*in.NetworkInterfaceId]
	if !ok {
		return nil, apiErr("ModifyNetworkInterfaceAttribute", 400, "InvalidNetworkInterfaceID.NotFound", "no such ENI")
	}
	ni.SourceDestCheck = awsv2.Bool(*in.SourceDestCheck.Value)
	return &ec2.ModifyNetworkInterfaceAttributeOutput{}, nil
}

var _ ec2API = (*fakeEC2)(nil)

// countingObserver counts observed calls by "action/outcome".
type countingObserver struct {
	mu sync.Mutex
	n  map[string]int
}

func (o *countingObserver) ObserveCall(action, outcome string, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.n == nil {
		o.n = map[string]int{}
	}
	o.n[action+"/"+outcome]++
}

func (o *countingObserver) get(key string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.n[key]
}

var _ cloud.CallObserver = (*countingObserver)(nil)
