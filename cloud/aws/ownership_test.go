package aws

import (
	"net/netip"
	"testing"

	awsv2 "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/vpcroute/vpcroute/cloud"
)

func TestOwner(t *testing.T) {
	cidr := netip.MustParsePrefix("10.0.0.0/8")
	tagged := func(eni string) bool { return eni == "eni-ours" }
	with := func(r types.Route, edit func(*types.Route)) types.Route { edit(&r); return r }
	base := created("10.1.0.0/24", "eni-ours")
	tests := []struct {
		name    string
		cluster string
		cidr    netip.Prefix
		r       types.Route
		want    string
	}{
		{"ours", "lab", cidr, base, "lab"},
		{"whole cluster CIDR", "lab", cidr, created("10.0.0.0/8", "eni-ours"), "lab"},
		{"untagged ENI", "lab", cidr, created("10.1.0.0/24", "eni-hand"), ""},
		{"outside the cluster CIDR", "lab", cidr, created("192.168.5.0/24", "eni-ours"), ""},
		{"wider than the cluster CIDR", "lab", cidr, created("10.0.0.0/7", "eni-ours"), ""},
		{"origin CreateRouteTable", "lab", cidr, with(base, func(r *types.Route) { r.Origin = types.RouteOriginCreateRouteTable }), ""},
		{"propagated", "lab", cidr, with(base, func(r *types.Route) { r.Origin = types.RouteOriginEnableVgwRoutePropagation }), ""},
		{"instance target only", "lab", cidr, with(base, func(r *types.Route) { r.NetworkInterfaceId, r.InstanceId = nil, awsv2.String("i-1") }), ""},
		{"gateway target", "lab", cidr, with(base, func(r *types.Route) { r.NetworkInterfaceId, r.GatewayId = nil, awsv2.String("igw-1") }), ""},
		{"blackhole inside", "lab", cidr, with(created("10.1.0.0/24", "eni-deleted"), func(r *types.Route) { r.State = types.RouteStateBlackhole }), "lab"},
		{"blackhole to a deleted NAT gateway", "lab", cidr, with(created("10.1.0.0/24", ""), func(r *types.Route) {
			r.State, r.NetworkInterfaceId, r.NatGatewayId = types.RouteStateBlackhole, nil, awsv2.String("nat-gone")
		}), ""},
		{"blackhole outside", "lab", cidr, with(created("172.16.0.0/24", "eni-deleted"), func(r *types.Route) { r.State = types.RouteStateBlackhole }), ""},
		{"blackhole by hand-made table route", "lab", cidr, with(created("10.1.0.0/24", "eni-x"), func(r *types.Route) {
			r.State, r.Origin = types.RouteStateBlackhole, types.RouteOriginCreateRouteTable
		}), ""},
		{"prefix list", "lab", cidr, types.Route{DestinationPrefixListId: awsv2.String("pl-1"), NetworkInterfaceId: awsv2.String("eni-ours"), Origin: types.RouteOriginCreateRoute}, ""},
		{"IPv6", "lab", cidr, types.Route{DestinationIpv6CidrBlock: awsv2.String("2001:db8::/64"), NetworkInterfaceId: awsv2.String("eni-ours"), Origin: types.RouteOriginCreateRoute}, ""},
		{"no cluster configured", "", cidr, base, ""},
		{"no cluster CIDR configured", "lab", netip.Prefix{}, base, ""},
	}
	for _, tt := range tests {
		if got := owner(tt.cluster, tt.cidr, tt.r, tagged); got != tt.want {
			t.Errorf("%s: owner = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestTagCheckAsksOnlyForCandidates(t *testing.T) {
	cidr := netip.MustParsePrefix("10.0.0.0/8")
	if eni, ok := tagCheck("lab", cidr, created("10.1.0.0/24", "eni-1")); !ok || eni != "eni-1" {
		t.Errorf("candidate: %q %v", eni, ok)
	}
	bh := created("10.1.0.0/24", "eni-1")
	bh.State = types.RouteStateBlackhole
	for _, r := range []types.Route{created("192.168.0.0/24", "eni-1"), bh} {
		if eni, ok := tagCheck("lab", cidr, r); ok {
			t.Errorf("%v: asked for the tags of %s", *r.DestinationCidrBlock, eni)
		}
	}
}

func TestTargetOf(t *testing.T) {
	s := awsv2.String
	tests := []struct {
		r    types.Route
		want cloud.Target
	}{
		{types.Route{NetworkInterfaceId: s("eni-1"), InstanceId: s("i-1")}, cloud.Target{Kind: "NetworkInterface", ID: "eni-1"}},
		{types.Route{InstanceId: s("i-1")}, cloud.Target{Kind: "Instance", ID: "i-1"}},
		{types.Route{GatewayId: s("local")}, cloud.Target{Kind: "Local", ID: "local"}},
		{types.Route{GatewayId: s("igw-1")}, cloud.Target{Kind: "InternetGateway", ID: "igw-1"}},
		{types.Route{GatewayId: s("vgw-1")}, cloud.Target{Kind: "VpnGateway", ID: "vgw-1"}},
		{types.Route{GatewayId: s("vpce-1")}, cloud.Target{Kind: "VpcEndpoint", ID: "vpce-1"}},
		{types.Route{NatGatewayId: s("nat-1")}, cloud.Target{Kind: "NatGateway", ID: "nat-1"}},
		{types.Route{VpcPeeringConnectionId: s("pcx-1")}, cloud.Target{Kind: "VpcPeeringConnection", ID: "pcx-1"}},
		{types.Route{TransitGatewayId: s("tgw-1")}, cloud.Target{Kind: "TransitGateway", ID: "tgw-1"}},
		{types.Route{}, cloud.Target{}},
	}
	for _, tt := range tests {
		if got := targetOf(tt.r); got != tt.want {
			t.Errorf("targetOf(%+v) = %v, want %v", tt.r, got, tt.want)
		}
	}
}

func TestToRoute(t *testing.T) {
	r, ok := toRoute("rtb-1", types.Route{DestinationCidrBlock: awsv2.String("10.1.0.5/24"), NetworkInterfaceId: awsv2.String("eni-1"),
		Origin: types.RouteOriginCreateRoute, State: types.RouteStateBlackhole})
	if !ok || r.Destination.String() != "10.1.0.0/24" || r.Status != cloud.StatusBlackhole || r.System || r.TableID != "rtb-1" {
		t.Errorf("toRoute = %+v, %v", r, ok)
	}
	local, _ := toRoute("rtb-1", types.Route{DestinationCidrBlock: awsv2.String("172.31.0.0/16"), GatewayId: awsv2.String("local"),
		Origin: types.RouteOriginCreateRouteTable, State: types.RouteStateActive})
	if !local.System || local.Status != cloud.StatusAvailable {
		t.Errorf("local route = %+v", local)
	}
	for _, bad := range []types.Route{{}, {DestinationCidrBlock: awsv2.String("not-a-cidr")}, {DestinationCidrBlock: awsv2.String("2001:db8::/64")}} {
		if _, ok := toRoute("rtb-1", bad); ok {
			t.Errorf("toRoute(%+v) accepted", bad)
		}
	}
}
