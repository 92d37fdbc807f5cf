package aws

import (
	"net/netip"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/vpcroute/vpcroute/cloud"
)

// TagKey is the tag vpcroute puts on each host's primary ENI (and reads on
// route tables with RouteTableTag); its value is the cluster name.
const TagKey = "vpcroute:cluster"

// EC2 routes have no name, description or tags, so ownership is inferred
// from three facts that together only vpcroute produces:
//
//   - the route was made by CreateRoute (not the table's local route, not
//     propagated from a VPN gateway);
//   - its destination lies inside the cluster CIDR, which the operator
//     reserved for container subnets;
//   - its target is an ENI tagged vpcroute:cluster=<cluster>, which
//     PrepareHost puts on each host's primary ENI.
//
// A blackhole route (its ENI was deleted with its instance) can no longer
// show the tag; made by CreateRoute inside the cluster CIDR, it is owned,
// so that the reconciler can clear it once GoneTargets confirms the target
// is gone. Everything else (internet and NAT gateways, peering, endpoints,
// prefix-list and IPv6 destinations, routes to untagged ENIs) is never the
// cluster's and is never touched.

// tagCheck returns the ENI whose tag decides whether r belongs to cluster,
// or ok=false when r cannot be the cluster's whatever the tags say, or is
// owned without a tag (a blackhole).
func tagCheck(cluster string, clusterCIDR netip.Prefix, r types.Route) (eni string, ok bool) {
	if !candidate(cluster, clusterCIDR, r) || r.State == types.RouteStateBlackhole {
		return "", false
	}
	if r.NetworkInterfaceId == nil || *r.NetworkInterfaceId == "" {
		return "", false
	}
	return *r.NetworkInterfaceId, true
}

// owner returns cluster when r belongs to it and "" otherwise; tagged
// reports whether an ENI carries vpcroute:cluster=<cluster>.
func owner(cluster string, clusterCIDR netip.Prefix, r types.Route, tagged func(eni string) bool) string {
	if !candidate(cluster, clusterCIDR, r) {
		return ""
	}
	if r.State == types.RouteStateBlackhole {
		// Its ENI is gone, so the tag cannot be read; vpcroute only ever
		// targets ENIs, so a blackhole to anything else (a deleted NAT
		// gateway, a peering) is someone else's.
		if nonEmpty(r.NetworkInterfaceId) || nonEmpty(r.InstanceId) {
			return cluster
		}
		return ""
	}
	if eni, ok := tagCheck(cluster, clusterCIDR, r); ok && tagged(eni) {
		return cluster
	}
	return ""
}

// candidate reports whether r passes the two tests that need no lookup:
// made by CreateRoute, IPv4 destination inside the cluster CIDR.
func candidate(cluster string, clusterCIDR netip.Prefix, r types.Route) bool {
	if cluster == "" || !clusterCIDR.IsValid() || r.Origin != types.RouteOriginCreateRoute {
		return false
	}
	dst, ok := destination(r)
	return ok && cloud.PrefixContains(clusterCIDR, dst)
}

// destination returns r's IPv4 destination; ok is false for IPv6 and
// prefix-list (endpoint) routes, which have none.
func destination(r types.Route) (netip.Prefix, bool) {
	if r.DestinationCidrBlock == nil {
		return netip.Prefix{}, false
	}
	dst, err := netip.ParsePrefix(*r.DestinationCidrBlock)
	if err != nil || !dst.Addr().Is4() {
		return netip.Prefix{}, false
	}
	return dst.Masked(), true
}

// toRoute converts an SDK route; ok is false for routes vpcroute cannot
// reason about (no IPv4 destination), which are skipped instead of failing
// the whole table. Cluster is left for Routes to fill in.
func toRoute(tableID string, r types.Route) (cloud.Route, bool) {
	dst, ok := destination(r)
	if !ok {
		return cloud.Route{}, false
	}
	return cloud.Route{
		TableID: tableID, Destination: dst, Target: targetOf(r), Status: statusOf(r.State),
		Description: "origin " + string(r.Origin),
		// The local route and propagated routes are the cloud's own.
		System: r.Origin == types.RouteOriginCreateRouteTable || r.Origin == types.RouteOriginEnableVgwRoutePropagation,
	}, true
}

// statusOf maps an EC2 route state onto the reconciler's vocabulary: EC2
// applies a change at once, so there is no Pending.
func statusOf(s types.RouteState) string {
	switch s {
	case types.RouteStateActive:
		return cloud.StatusAvailable
	case types.RouteStateBlackhole:
		return cloud.StatusBlackhole
	}
	return string(s)
}

// targetOf names r's next hop. An ENI comes first: EC2 reports both the
// ENI and its instance for a route to an instance's interface, and
// vpcroute's routes are matched by ENI.
func targetOf(r types.Route) cloud.Target {
	hops := []struct {
		kind string
		id   *string
	}{
		{cloud.TargetNetworkInterface, r.NetworkInterfaceId},
		{cloud.TargetInstance, r.InstanceId},
		{"NatGateway", r.NatGatewayId},
		{"VpcPeeringConnection", r.VpcPeeringConnectionId},
		{"TransitGateway", r.TransitGatewayId},
		{"EgressOnlyInternetGateway", r.EgressOnlyInternetGatewayId},
		{"CarrierGateway", r.CarrierGatewayId},
		{"LocalGateway", r.LocalGatewayId},
		{"CoreNetwork", r.CoreNetworkArn},
		{"OdbNetwork", r.OdbNetworkArn},
	}
	for _, h := range hops {
		if h.id != nil && *h.id != "" {
			return cloud.Target{Kind: h.kind, ID: *h.id}
		}
	}
	if r.GatewayId != nil && *r.GatewayId != "" {
		return cloud.Target{Kind: gatewayKind(*r.GatewayId), ID: *r.GatewayId}
	}
	return cloud.Target{}
}

// gatewayKind names what a GatewayId points at.
func gatewayKind(id string) string {
	switch {
	case id == "local":
		return "Local"
	case strings.HasPrefix(id, "igw-"):
		return "InternetGateway"
	case strings.HasPrefix(id, "vgw-"):
		return "VpnGateway"
	case strings.HasPrefix(id, "vpce-"):
		return "VpcEndpoint"
	}
	return "Gateway"
}

// tagValue returns the value of key in tags, or "".
func tagValue(tags []types.Tag, key string) string {
	for _, t := range tags {
		if t.Key != nil && *t.Key == key && t.Value != nil {
			return *t.Value
		}
	}
	return ""
}

func nonEmpty(s *string) bool { return s != nil && *s != "" }
