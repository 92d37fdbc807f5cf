package sim

import (
	"fmt"
	"slices"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func TestDefaultAWSTopology(t *testing.T) {
	topo := DefaultAWSTopology()
	if topo.Provider != ProviderAWS || topo.Region != awsRegion || len(topo.Instances) != 2 {
		t.Fatalf("default AWS topology = %+v", topo)
	}
	s, err := New(topo)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b := s.Behaviour()
	if b.Quota != DefaultAWSQuota || b.Throttle.Writes != EC2MutatingBucket || b.Throttle.Reads != EC2DescribeBucket {
		t.Errorf("behaviour = %+v", b)
	}
	if s.Provider() != ProviderAWS {
		t.Errorf("provider = %s", s.Provider())
	}
	got, err := DefaultTopologyFor("aws")
	if err != nil || got.Provider != ProviderAWS {
		t.Errorf("DefaultTopologyFor(aws) = %v, %v", got.Provider, err)
	}
	if _, err := DefaultTopologyFor("gcp"); err == nil {
		t.Error("DefaultTopologyFor(gcp) accepted")
	}
}

func TestEC2DescribeVpcs(t *testing.T) {
	ts := startAWS(t)
	c := ec2Client(ts)
	out, err := c.DescribeVpcs(bg, &ec2.DescribeVpcsInput{Filters: []types.Filter{{Name: aws.String("vpc-id"), Values: []string{awsVPC}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Vpcs) != 1 {
		t.Fatalf("vpcs = %+v", out.Vpcs)
	}
	v := out.Vpcs[0]
	var cidrs []string
	for _, a := range v.CidrBlockAssociationSet {
		cidrs = append(cidrs, aws.ToString(a.CidrBlock))
		if a.CidrBlockState == nil || a.CidrBlockState.State != types.VpcCidrBlockStateCodeAssociated || aws.ToString(a.AssociationId) == "" {
			t.Errorf("association %+v", a)
		}
	}
	if aws.ToString(v.CidrBlock) != "192.168.0.0/16" || !slices.Equal(cidrs, []string{"192.168.0.0/16", "172.20.0.0/16"}) ||
		aws.ToString(v.OwnerId) != DefaultAccountID || v.State != types.VpcStateAvailable {
		t.Errorf("vpc = cidr %s associations %v owner %s state %s", aws.ToString(v.CidrBlock), cidrs, aws.ToString(v.OwnerId), v.State)
	}
	if len(v.Tags) != 1 || aws.ToString(v.Tags[0].Key) != "Name" || aws.ToString(v.Tags[0].Value) != "lab" {
		t.Errorf("tags = %+v", v.Tags)
	}
	out, err = c.DescribeVpcs(bg, &ec2.DescribeVpcsInput{Filters: []types.Filter{{Name: aws.String("cidr-block-association.cidr-block"), Values: []string{"172.20.*"}}}})
	if err != nil || len(out.Vpcs) != 1 {
		t.Errorf("wildcard filter on a secondary CIDR: %v, %v", out, err)
	}
	out, err = c.DescribeVpcs(bg, &ec2.DescribeVpcsInput{Filters: []types.Filter{{Name: aws.String("vpc-id"), Values: []string{"vpc-other"}}}})
	if err != nil || len(out.Vpcs) != 0 {
		t.Errorf("filter matching nothing: %v, %v", out, err)
	}
	_, err = c.DescribeVpcs(bg, &ec2.DescribeVpcsInput{VpcIds: []string{"vpc-0000000000000dead"}})
	wantAPIError(t, err, 400, CodeVpcNotFound)
	_, err = c.DescribeVpcs(bg, &ec2.DescribeVpcsInput{Filters: []types.Filter{{Name: aws.String("colour"), Values: []string{"red"}}}})
	wantAPIError(t, err, 400, CodeInvalidParameterValue)
}

func TestEC2DescribeSubnets(t *testing.T) {
	ts := startAWS(t)
	out, err := ec2Client(ts).DescribeSubnets(bg, &ec2.DescribeSubnetsInput{Filters: []types.Filter{{Name: aws.String("vpc-id"), Values: []string{awsVPC}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Subnets) != 1 {
		t.Fatalf("subnets = %+v", out.Subnets)
	}
	s := out.Subnets[0]
	// 256 addresses, 5 reserved, 2 ENIs.
	if aws.ToString(s.SubnetId) != awsSubnet || aws.ToString(s.CidrBlock) != "192.168.1.0/24" || aws.ToString(s.AvailabilityZone) != "eu-west-1a" ||
		aws.ToString(s.AvailabilityZoneId) != "euw1-az1" || aws.ToInt32(s.AvailableIpAddressCount) != 249 || aws.ToString(s.VpcId) != awsVPC {
		t.Errorf("subnet = %+v", s)
	}
	_, err = ec2Client(ts).DescribeSubnets(bg, &ec2.DescribeSubnetsInput{SubnetIds: []string{"subnet-nope"}})
	wantAPIError(t, err, 400, CodeSubnetNotFound)
}

func TestEC2DescribeRouteTables(t *testing.T) {
	ts := startAWS(t)
	c := ec2Client(ts)
	rt := routeTable(t, c, awsTable)
	if aws.ToString(rt.VpcId) != awsVPC || aws.ToString(rt.OwnerId) != DefaultAccountID {
		t.Errorf("table = %+v", rt)
	}
	if len(rt.Associations) != 1 || !aws.ToBool(rt.Associations[0].Main) || aws.ToString(rt.Associations[0].RouteTableId) != awsTable ||
		rt.Associations[0].AssociationState == nil || rt.Associations[0].AssociationState.State != types.RouteTableAssociationStateCodeAssociated {
		t.Errorf("associations = %+v", rt.Associations)
	}
	tags := map[string]string{}
	for _, tg := range rt.Tags {
		tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	if tags["vpcroute:cluster"] != "lab" || tags["Name"] != "lab-main" {
		t.Errorf("tags = %v", tags)
	}
	if len(rt.Routes) != 5 {
		t.Fatalf("routes = %d, want 2 local + igw + pcx + endpoint", len(rt.Routes))
	}
	for _, dest := range []string{"192.168.0.0/16", "172.20.0.0/16"} {
		r := routeTo(rt, dest)
		if r == nil || aws.ToString(r.GatewayId) != "local" || r.Origin != types.RouteOriginCreateRouteTable || r.State != types.RouteStateActive {
			t.Errorf("local route %s = %+v", dest, r)
		}
	}
	if r := routeTo(rt, "0.0.0.0/0"); r == nil || aws.ToString(r.GatewayId) != "igw-0a1b2c3d4e5f60001" || r.Origin != types.RouteOriginCreateRoute {
		t.Errorf("internet gateway route = %+v", r)
	}
	if r := routeTo(rt, "172.16.0.0/16"); r == nil || aws.ToString(r.VpcPeeringConnectionId) != "pcx-0a1b2c3d4e5f60001" || r.GatewayId != nil {
		t.Errorf("peering route = %+v", r)
	}
	r := routeTo(rt, "pl-6da54004")
	if r == nil || r.DestinationCidrBlock != nil || aws.ToString(r.GatewayId) != "vpce-0a1b2c3d4e5f60001" || r.State != types.RouteStateActive {
		t.Errorf("endpoint route = %+v", r)
	}

	for _, f := range []types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{awsVPC}},
		{Name: aws.String("route-table-id"), Values: []string{awsTable}},
		{Name: aws.String("tag:vpcroute:cluster"), Values: []string{"lab"}},
		{Name: aws.String("tag-key"), Values: []string{"vpcroute:cluster"}},
		{Name: aws.String("association.main"), Values: []string{"true"}},
		{Name: aws.String("route.state"), Values: []string{"active"}},
	} {
		out, err := c.DescribeRouteTables(bg, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{f}})
		if err != nil || len(out.RouteTables) != 1 {
			t.Errorf("filter %s=%v: %v, %v", aws.ToString(f.Name), f.Values, out, err)
		}
	}
	for _, f := range []types.Filter{
		{Name: aws.String("tag:vpcroute:cluster"), Values: []string{"prod"}},
		{Name: aws.String("tag-key"), Values: []string{"other"}},
		{Name: aws.String("route.state"), Values: []string{"blackhole"}},
	} {
		out, err := c.DescribeRouteTables(bg, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{f}})
		if err != nil || len(out.RouteTables) != 0 {
			t.Errorf("filter %s=%v matched: %v, %v", aws.ToString(f.Name), f.Values, out, err)
		}
	}
	_, err := c.DescribeRouteTables(bg, &ec2.DescribeRouteTablesInput{RouteTableIds: []string{"rtb-0000000000000dead"}})
	wantAPIError(t, err, 400, CodeRouteTableNotFound)
	_, err = c.DescribeRouteTables(bg, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{{Name: aws.String("route.colour"), Values: []string{"x"}}}})
	wantAPIError(t, err, 400, CodeInvalidParameterValue)
	_, err = c.DescribeRouteTables(bg, &ec2.DescribeRouteTablesInput{MaxResults: aws.Int32(500)})
	wantAPIError(t, err, 400, CodeInvalidParameterValue)
}

func TestEC2DescribeRouteTablesPages(t *testing.T) {
	topo := DefaultAWSTopology()
	for i := range 11 {
		topo.RouteTables = append(topo.RouteTables, RouteTableSpec{ID: "rtb-0extra" + string(rune('a'+i)), Tags: map[string]string{"n": string(rune('a' + i))}})
	}
	ts := NewTestServer(t, topo)
	p := ec2.NewDescribeRouteTablesPaginator(ec2Client(ts), &ec2.DescribeRouteTablesInput{MaxResults: aws.Int32(5)})
	var ids []string
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(bg)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, rt := range out.RouteTables {
			ids = append(ids, aws.ToString(rt.RouteTableId))
		}
	}
	sort.Strings(ids)
	if pages != 3 || len(ids) != 12 || slices.Compact(slices.Clone(ids)) == nil || len(slices.Compact(slices.Clone(ids))) != 12 {
		t.Errorf("%d pages, ids %v", pages, ids)
	}
	_, err := ec2Client(ts).DescribeRouteTables(bg, &ec2.DescribeRouteTablesInput{NextToken: aws.String("garbage")})
	wantAPIError(t, err, 400, CodeInvalidParameterValue)
}

// EC2 takes at most 200 filter values in one call, counted across its
// filters, and refuses more with FilterLimitExceeded.
func TestEC2FilterValueLimit(t *testing.T) {
	ts := startAWS(t)
	c := ec2Client(ts)
	ids := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("i-0%016x", i)
		}
		return out
	}
	out, err := c.DescribeInstances(bg, &ec2.DescribeInstancesInput{Filters: []types.Filter{
		{Name: aws.String("instance-id"), Values: append(ids(EC2MaxFilterValues-1), "i-0aaaaaaaaaaaaaaaa")}}})
	if err != nil || len(out.Reservations) != 1 {
		t.Fatalf("%d values: %v, %d reservations", EC2MaxFilterValues, err, len(out.Reservations))
	}
	_, err = c.DescribeInstances(bg, &ec2.DescribeInstancesInput{Filters: []types.Filter{
		{Name: aws.String("instance-id"), Values: ids(EC2MaxFilterValues + 1)}}})
	wantAPIError(t, err, 400, CodeFilterLimitExceeded)
	_, err = c.DescribeNetworkInterfaces(bg, &ec2.DescribeNetworkInterfacesInput{Filters: []types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{"vpc-0a1b2c3d4e5f60001"}},
		{Name: aws.String("network-interface-id"), Values: ids(EC2MaxFilterValues)}}})
	wantAPIError(t, err, 400, CodeFilterLimitExceeded)
}
