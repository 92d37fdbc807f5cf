package sim

import (
	"cmp"
	"encoding/xml"
	"strconv"
	"strings"
)

// DescribeVpcs, DescribeSubnets and DescribeRouteTables. Element names
// follow aws-sdk-go-v2's service/ec2 deserializers (awsEc2query_deserialize
// DocumentVpc, ...Subnet, ...RouteTable, ...Route).

type ec2CidrAssoc struct {
	AssociationID string `xml:"associationId"`
	CidrBlock     string `xml:"cidrBlock"`
	State         string `xml:"cidrBlockState>state"`
}

type ec2Vpc struct {
	VpcID           string         `xml:"vpcId"`
	OwnerID         string         `xml:"ownerId"`
	State           string         `xml:"state"`
	CidrBlock       string         `xml:"cidrBlock"`
	CidrAssocs      []ec2CidrAssoc `xml:"cidrBlockAssociationSet>item"`
	DhcpOptionsID   string         `xml:"dhcpOptionsId"`
	InstanceTenancy string         `xml:"instanceTenancy"`
	IsDefault       bool           `xml:"isDefault"`
	Tags            []ec2Tag       `xml:"tagSet>item"`
}

type ec2DescribeVpcsResponse struct {
	XMLName xml.Name `xml:"http://ec2.amazonaws.com/doc/2016-11-15/ DescribeVpcsResponse"`
	ec2Base
	Vpcs      []ec2Vpc `xml:"vpcSet>item"`
	NextToken string   `xml:"nextToken,omitempty"`
}

var vpcFilters = append([]string{"vpc-id", "cidr", "cidr-block-association.cidr-block", "cidr-block-association.association-id",
	"cidr-block-association.state", "state", "owner-id", "is-default", "dhcp-options-id"}, tagFilterNames...)

func (s *Server) ec2DescribeVpcs(p params) (any, *apiError) {
	q, aerr := p.ec2Select("VpcId", vpcFilters)
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if aerr := q.checkIDs(func(id string) bool { return s.w.vpc(id) != nil }, CodeVpcNotFound, "vpc"); aerr != nil {
		return nil, aerr
	}
	var items []ec2Vpc
	for _, v := range s.w.vpcs {
		it := ec2Vpc{VpcID: v.id, OwnerID: s.w.account, State: "available", CidrBlock: v.cidr.String(),
			DhcpOptionsID: "dopt-" + hashHex("dopt/"+v.id, 17), InstanceTenancy: "default", Tags: tagSet(v.tags)}
		for _, c := range v.cidrs() {
			it.CidrAssocs = append(it.CidrAssocs, ec2CidrAssoc{AssociationID: awsID("vpc-cidr-assoc", v.id+"/"+c.String()),
				CidrBlock: c.String(), State: "associated"})
		}
		values := func(name string) []string {
			switch name {
			case "vpc-id":
				return []string{v.id}
			case "cidr":
				return []string{v.cidr.String()}
			case "cidr-block-association.cidr-block":
				return collect(it.CidrAssocs, func(a ec2CidrAssoc) string { return a.CidrBlock })
			case "cidr-block-association.association-id":
				return collect(it.CidrAssocs, func(a ec2CidrAssoc) string { return a.AssociationID })
			case "cidr-block-association.state":
				return []string{"associated"}
			case "state":
				return []string{"available"}
			case "owner-id":
				return []string{s.w.account}
			case "is-default":
				return []string{"false"}
			case "dhcp-options-id":
				return []string{it.DhcpOptionsID}
			}
			return nil
		}
		if !q.selects(v.id, v.tags, values) {
			continue
		}
		items = append(items, it)
	}
	page, next, aerr := ec2Page(p, items, 1000)
	if aerr != nil {
		return nil, aerr
	}
	return &ec2DescribeVpcsResponse{Vpcs: page, NextToken: next}, nil
}

func collect[T any](xs []T, f func(T) string) []string {
	out := make([]string, 0, len(xs))
	for _, x := range xs {
		out = append(out, f(x))
	}
	return out
}

type ec2Subnet struct {
	SubnetID                string   `xml:"subnetId"`
	SubnetArn               string   `xml:"subnetArn"`
	State                   string   `xml:"state"`
	VpcID                   string   `xml:"vpcId"`
	OwnerID                 string   `xml:"ownerId"`
	CidrBlock               string   `xml:"cidrBlock"`
	AvailableIPAddressCount int      `xml:"availableIpAddressCount"`
	AvailabilityZone        string   `xml:"availabilityZone"`
	AvailabilityZoneID      string   `xml:"availabilityZoneId"`
	DefaultForAz            bool     `xml:"defaultForAz"`
	MapPublicIPOnLaunch     bool     `xml:"mapPublicIpOnLaunch"`
	Tags                    []ec2Tag `xml:"tagSet>item"`
}

type ec2DescribeSubnetsResponse struct {
	XMLName xml.Name `xml:"http://ec2.amazonaws.com/doc/2016-11-15/ DescribeSubnetsResponse"`
	ec2Base
	Subnets   []ec2Subnet `xml:"subnetSet>item"`
	NextToken string      `xml:"nextToken,omitempty"`
}

var subnetFilters = append([]string{"vpc-id", "subnet-id", "cidr-block", "cidrBlock", "cidr", "availability-zone",
	"availabilityZone", "availability-zone-id", "state", "owner-id", "default-for-az", "subnet-arn"}, tagFilterNames...)

// zoneID renders an availability zone ID such as euw1-az1 for eu-west-1a
// (the real mapping differs per account; the shape is what matters).
func zoneID(zone string) string {
	parts := strings.Split(zone, "-")
	if len(parts) != 3 || len(parts[2]) < 2 {
		return zone
	}
	dir := map[string]string{"north": "n", "south": "s", "east": "e", "west": "w", "central": "c",
		"northeast": "ne", "northwest": "nw", "southeast": "se", "southwest": "sw"}[parts[1]]
	num, letter := parts[2][:len(parts[2])-1], parts[2][len(parts[2])-1]
	return parts[0] + cmp.Or(dir, parts[1]) + num + "-az" + strconv.Itoa(int(letter-'a')+1)
}

func (s *Server) ec2DescribeSubnets(p params) (any, *apiError) {
	q, aerr := p.ec2Select("SubnetId", subnetFilters)
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if aerr := q.checkIDs(func(id string) bool { return s.w.vswitch(id) != nil }, CodeSubnetNotFound, "subnet"); aerr != nil {
		return nil, aerr
	}
	var items []ec2Subnet
	for _, v := range s.w.vswitches {
		// EC2 reserves the first four and the last address of a subnet.
		free := 1<<(32-v.cidr.Bits()) - 5
		for _, n := range s.w.enis {
			if n.subnet == v.id {
				free--
			}
		}
		it := ec2Subnet{SubnetID: v.id, SubnetArn: "arn:aws:ec2:" + s.w.region + ":" + s.w.account + ":subnet/" + v.id,
			State: "available", VpcID: v.vpc, OwnerID: s.w.account, CidrBlock: v.cidr.String(), AvailableIPAddressCount: free,
			AvailabilityZone: v.zone, AvailabilityZoneID: zoneID(v.zone), Tags: tagSet(v.tags)}
		values := func(name string) []string {
			switch name {
			case "vpc-id":
				return []string{v.vpc}
			case "subnet-id":
				return []string{v.id}
			case "cidr-block", "cidrBlock", "cidr":
				return []string{it.CidrBlock}
			case "availability-zone", "availabilityZone":
				return []string{v.zone}
			case "availability-zone-id":
				return []string{it.AvailabilityZoneID}
			case "state":
				return []string{"available"}
			case "owner-id":
				return []string{s.w.account}
			case "default-for-az":
				return []string{"false"}
			case "subnet-arn":
				return []string{it.SubnetArn}
			}
			return nil
		}
		if !q.selects(v.id, v.tags, values) {
			continue
		}
		items = append(items, it)
	}
	page, next, aerr := ec2Page(p, items, 1000)
	if aerr != nil {
		return nil, aerr
	}
	return &ec2DescribeSubnetsResponse{Subnets: page, NextToken: next}, nil
}

// ec2Route is one item of a routeSet. Only the target's element is
// present, as in EC2's answers.
type ec2Route struct {
	DestinationCidrBlock        string `xml:"destinationCidrBlock,omitempty"`
	DestinationPrefixListID     string `xml:"destinationPrefixListId,omitempty"`
	GatewayID                   string `xml:"gatewayId,omitempty"`
	InstanceID                  string `xml:"instanceId,omitempty"`
	InstanceOwnerID             string `xml:"instanceOwnerId,omitempty"`
	NetworkInterfaceID          string `xml:"networkInterfaceId,omitempty"`
	NatGatewayID                string `xml:"natGatewayId,omitempty"`
	VpcPeeringConnectionID      string `xml:"vpcPeeringConnectionId,omitempty"`
	TransitGatewayID            string `xml:"transitGatewayId,omitempty"`
	EgressOnlyInternetGatewayID string `xml:"egressOnlyInternetGatewayId,omitempty"`
	LocalGatewayID              string `xml:"localGatewayId,omitempty"`
	CarrierGatewayID            string `xml:"carrierGatewayId,omitempty"`
	CoreNetworkArn              string `xml:"coreNetworkArn,omitempty"`
	State                       string `xml:"state"`
	Origin                      string `xml:"origin"`
}

type ec2Association struct {
	ID           string `xml:"routeTableAssociationId"`
	RouteTableID string `xml:"routeTableId"`
	SubnetID     string `xml:"subnetId,omitempty"`
	Main         bool   `xml:"main"`
	State        string `xml:"associationState>state"`
}

type ec2RouteTable struct {
	RouteTableID string           `xml:"routeTableId"`
	VpcID        string           `xml:"vpcId"`
	OwnerID      string           `xml:"ownerId"`
	Routes       []ec2Route       `xml:"routeSet>item"`
	Associations []ec2Association `xml:"associationSet>item"`
	// The reference shows both sets on every table, empty or not;
	// vpcroute-sim has no virtual private gateways to propagate.
	PropagatingVgws struct{}  `xml:"propagatingVgwSet"`
	Tags            ec2TagSet `xml:"tagSet"`
}

type ec2DescribeRouteTablesResponse struct {
	XMLName xml.Name `xml:"http://ec2.amazonaws.com/doc/2016-11-15/ DescribeRouteTablesResponse"`
	ec2Base
	RouteTables []ec2RouteTable `xml:"routeTableSet>item"`
	NextToken   string          `xml:"nextToken,omitempty"`
}

var routeTableFilters = append([]string{"vpc-id", "route-table-id", "owner-id", "association.main", "association.subnet-id",
	"association.route-table-association-id", "association.route-table-id", "route.state", "route.origin",
	"route.destination-cidr-block", "route.destination-prefix-list-id", "route.gateway-id", "route.instance-id",
	"route.nat-gateway-id", "route.vpc-peering-connection-id", "route.transit-gateway-id"}, tagFilterNames...)

// ec2RouteItem renders an entry the way DescribeRouteTables does. Callers
// hold s.mu.
func (w *world) ec2RouteItem(e *entry) ec2Route {
	r := ec2Route{State: e.status, Origin: e.origin}
	if e.prefixList != "" {
		r.DestinationPrefixListID = e.prefixList
	} else {
		r.DestinationCidrBlock = e.dest.String()
	}
	switch e.hopType {
	case NextHopLocal:
		r.GatewayID = NextHopLocal
	case NextHopInstance, HopNetworkInterface:
		r.NetworkInterfaceID = e.eni
		if r.InstanceID = w.routeInstance(e); r.InstanceID != "" {
			r.InstanceOwnerID = w.account
		}
	case HopGateway, "VpcEndpoint":
		r.GatewayID = e.hopID
	case "NatGateway":
		r.NatGatewayID = e.hopID
	case "VpcPeering":
		r.VpcPeeringConnectionID = e.hopID
	case "TransitGateway":
		r.TransitGatewayID = e.hopID
	case "EgressOnlyInternetGateway":
		r.EgressOnlyInternetGatewayID = e.hopID
	case "LocalGateway":
		r.LocalGatewayID = e.hopID
	case "CarrierGateway":
		r.CarrierGatewayID = e.hopID
	case "CoreNetwork":
		r.CoreNetworkArn = e.hopID
	}
	return r
}

// ec2Associations lists a table's associations: the main one, then its
// explicit subnet associations.
func (w *world) ec2Associations(t *table) []ec2Association {
	var out []ec2Association
	if t.typ == TableTypeSystem {
		out = append(out, ec2Association{ID: awsID("rtbassoc", t.id), RouteTableID: t.id, Main: true, State: "associated"})
	}
	for _, sub := range t.explicit {
		out = append(out, ec2Association{ID: awsID("rtbassoc", t.id+"/"+sub), RouteTableID: t.id, SubnetID: sub, State: "associated"})
	}
	return out
}

func (s *Server) ec2DescribeRouteTables(p params) (any, *apiError) {
	q, aerr := p.ec2Select("RouteTableId", routeTableFilters)
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if aerr := q.checkIDs(func(id string) bool { return s.w.table(id) != nil }, CodeRouteTableNotFound, "routeTable"); aerr != nil {
		return nil, aerr
	}
	var items []ec2RouteTable
	for _, t := range s.w.tables {
		it := ec2RouteTable{RouteTableID: t.id, VpcID: t.vpc, OwnerID: s.w.account, Associations: s.w.ec2Associations(t), Tags: ec2TagSet{Items: tagSet(t.tags)}}
		for _, e := range t.entries {
			it.Routes = append(it.Routes, s.w.ec2RouteItem(e))
		}
		values := func(name string) []string {
			switch name {
			case "vpc-id":
				return []string{t.vpc}
			case "route-table-id", "association.route-table-id":
				return []string{t.id}
			case "owner-id":
				return []string{s.w.account}
			case "association.main":
				return collect(it.Associations, func(a ec2Association) string { return strconv.FormatBool(a.Main) })
			case "association.subnet-id":
				return append([]string{}, t.explicit...)
			case "association.route-table-association-id":
				return collect(it.Associations, func(a ec2Association) string { return a.ID })
			}
			field, ok := strings.CutPrefix(name, "route.")
			if !ok {
				return nil
			}
			return collect(it.Routes, func(r ec2Route) string { return routeField(r, field) })
		}
		if !q.selects(t.id, t.tags, values) {
			continue
		}
		items = append(items, it)
	}
	page, next, aerr := ec2Page(p, items, 100)
	if aerr != nil {
		return nil, aerr
	}
	return &ec2DescribeRouteTablesResponse{RouteTables: page, NextToken: next}, nil
}

// routeField is the value a route.<field> filter compares.
func routeField(r ec2Route, field string) string {
	switch field {
	case "state":
		return r.State
	case "origin":
		return r.Origin
	case "destination-cidr-block":
		return r.DestinationCidrBlock
	case "destination-prefix-list-id":
		return r.DestinationPrefixListID
	case "gateway-id":
		return r.GatewayID
	case "instance-id":
		return r.InstanceID
	case "nat-gateway-id":
		return r.NatGatewayID
	case "vpc-peering-connection-id":
		return r.VpcPeeringConnectionID
	case "transit-gateway-id":
		return r.TransitGatewayID
	}
	return ""
}
