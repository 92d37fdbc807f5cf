package sim

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// The response types mirror services/vpc of alibaba-cloud-sdk-go field for
// field (names, nesting, JSON types), so the SDK parses them unchanged.

const timeFormat = "2006-01-02T15:04:05Z"

// The simulated Alibaba account and its default resource group: the
// documented answers carry them on every VPC, vSwitch and route table.
const (
	aliyunOwnerID       = int64(1000000000000001)
	aliyunResourceGroup = "rg-vpcroute-sim"
)

// tagList is the Tags field of VPCs, vSwitches and route tables; the
// simulator keeps no tags, so it is always empty.
type tagList struct {
	Tag []tagItem `json:"Tag"`
}

type tagItem struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

func noTags() tagList { return tagList{Tag: []tagItem{}} }

// ipv6Block is an item of a VPC's Ipv6CidrBlocks.
type ipv6Block struct {
	Ipv6CidrBlock string `json:"Ipv6CidrBlock"`
	Ipv6Isp       string `json:"Ipv6Isp"`
}

type strList struct {
	VSwitchID []string `json:"VSwitchId"`
}

type vpcItem struct {
	VpcID               string   `json:"VpcId"`
	RegionID            string   `json:"RegionId"`
	Status              string   `json:"Status"`
	VpcName             string   `json:"VpcName"`
	CreationTime        string   `json:"CreationTime"`
	CidrBlock           string   `json:"CidrBlock"`
	VRouterID           string   `json:"VRouterId"`
	IsDefault           bool     `json:"IsDefault"`
	Description         string   `json:"Description"`
	VSwitchIDs          strList  `json:"VSwitchIds"`
	SecondaryCidrBlocks secList  `json:"SecondaryCidrBlocks"`
	RouterTableIDs      rtIDList `json:"RouterTableIds"`
	OwnerID             int64    `json:"OwnerId"`
	ResourceGroupID     string   `json:"ResourceGroupId"`
	AdvancedResource    bool     `json:"AdvancedResource"`
	SupportAdvanced     bool     `json:"SupportAdvancedFeature"`
	DhcpOptionsSetID    string   `json:"DhcpOptionsSetId"`
	DhcpOptionsStatus   string   `json:"DhcpOptionsSetStatus"`
	NetworkACLNum       string   `json:"NetworkAclNum"`
	CenStatus           string   `json:"CenStatus"`
	DNSHostnameStatus   string   `json:"DnsHostnameStatus"`
	EnabledIpv6         bool     `json:"EnabledIpv6"`
	Ipv6CidrBlock       string   `json:"Ipv6CidrBlock"`
	Ipv6CidrBlocks      struct {
		Ipv6CidrBlock []ipv6Block `json:"Ipv6CidrBlock"`
	} `json:"Ipv6CidrBlocks"`
	UserCidrs struct {
		UserCidr []string `json:"UserCidr"`
	} `json:"UserCidrs"`
	NatGatewayIDs struct {
		NatGatewayIDs []string `json:"NatGatewayIds"`
	} `json:"NatGatewayIds"`
	Tags tagList `json:"Tags"`
}

type secList struct {
	SecondaryCidrBlock []string `json:"SecondaryCidrBlock"`
}

type rtIDList struct {
	RouterTableIDs []string `json:"RouterTableIds"`
}

type describeVpcsResponse struct {
	base
	PageNumber int `json:"PageNumber"`
	PageSize   int `json:"PageSize"`
	TotalCount int `json:"TotalCount"`
	Vpcs       struct {
		Vpc []vpcItem `json:"Vpc"`
	} `json:"Vpcs"`
}

func (s *Server) describeVpcs(p params) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	if v := p.Get("VpcId"); v != "" {
		ids = strings.Split(v, ",")
	}
	var items []vpcItem
	for _, v := range s.w.vpcs {
		if (len(ids) > 0 && !slices.Contains(ids, v.id)) || (p.Get("VpcName") != "" && p.Get("VpcName") != v.name) {
			continue
		}
		it := vpcItem{VpcID: v.id, RegionID: s.w.region, Status: "Available", VpcName: v.name, CidrBlock: v.cidr.String(),
			CreationTime: s.w.created.Format(timeFormat), VRouterID: v.routerID,
			VSwitchIDs: strList{VSwitchID: []string{}}, SecondaryCidrBlocks: secList{SecondaryCidrBlock: []string{}},
			RouterTableIDs: rtIDList{RouterTableIDs: []string{}}, OwnerID: aliyunOwnerID, ResourceGroupID: aliyunResourceGroup,
			AdvancedResource: true, SupportAdvanced: true, NetworkACLNum: "0", CenStatus: "Detached",
			DNSHostnameStatus: "DISABLED", Tags: noTags()}
		it.Ipv6CidrBlocks.Ipv6CidrBlock = []ipv6Block{}
		it.UserCidrs.UserCidr = []string{}
		it.NatGatewayIDs.NatGatewayIDs = []string{}
		for _, c := range v.secondary {
			it.SecondaryCidrBlocks.SecondaryCidrBlock = append(it.SecondaryCidrBlocks.SecondaryCidrBlock, c.String())
		}
		for _, vsw := range s.w.vswitchesOf(v.id) {
			it.VSwitchIDs.VSwitchID = append(it.VSwitchIDs.VSwitchID, vsw.id)
		}
		for _, t := range s.w.tablesOf(v.id) {
			it.RouterTableIDs.RouterTableIDs = append(it.RouterTableIDs.RouterTableIDs, t.id)
		}
		items = append(items, it)
	}
	resp := &describeVpcsResponse{}
	var lo, hi int
	var aerr *apiError
	if resp.PageNumber, resp.PageSize, lo, hi, aerr = p.page(len(items), 10, 50); aerr != nil {
		return nil, aerr
	}
	resp.TotalCount = len(items)
	resp.Vpcs.Vpc = append([]vpcItem{}, items[lo:hi]...)
	return resp, nil
}

type vswitchItem struct {
	VSwitchID               string `json:"VSwitchId"`
	VpcID                   string `json:"VpcId"`
	Status                  string `json:"Status"`
	CidrBlock               string `json:"CidrBlock"`
	ZoneID                  string `json:"ZoneId"`
	VSwitchName             string `json:"VSwitchName"`
	CreationTime            string `json:"CreationTime"`
	IsDefault               bool   `json:"IsDefault"`
	AvailableIPAddressCount int64  `json:"AvailableIpAddressCount"`
	Description             string `json:"Description"`
	RouteTable              struct {
		RouteTableID   string `json:"RouteTableId"`
		RouteTableType string `json:"RouteTableType"`
	} `json:"RouteTable"`
	OwnerID         int64   `json:"OwnerId"`
	ResourceGroupID string  `json:"ResourceGroupId"`
	NetworkACLID    string  `json:"NetworkAclId"`
	ShareType       string  `json:"ShareType"`
	EnabledIpv6     bool    `json:"EnabledIpv6"`
	Ipv6CidrBlock   string  `json:"Ipv6CidrBlock"`
	Tags            tagList `json:"Tags"`
}

type describeVSwitchesResponse struct {
	base
	PageNumber int `json:"PageNumber"`
	PageSize   int `json:"PageSize"`
	TotalCount int `json:"TotalCount"`
	VSwitches  struct {
		VSwitch []vswitchItem `json:"VSwitch"`
	} `json:"VSwitches"`
}

func (s *Server) describeVSwitches(p params) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var items []vswitchItem
	for _, v := range s.w.vswitches {
		if !match(p, "VpcId", v.vpc) || !match(p, "VSwitchId", v.id) || !match(p, "ZoneId", v.zone) || !match(p, "RouteTableId", v.table) {
			continue
		}
		it := vswitchItem{VSwitchID: v.id, VpcID: v.vpc, Status: "Available", CidrBlock: v.cidr.String(), ZoneID: v.zone,
			VSwitchName: v.name, CreationTime: s.w.created.Format(timeFormat), Description: v.name}
		// Alibaba reserves the first and the last three addresses.
		it.AvailableIPAddressCount = int64(1)<<(32-v.cidr.Bits()) - 4
		for _, in := range s.w.instances {
			if in.vswitch == v.id {
				it.AvailableIPAddressCount--
			}
		}
		it.RouteTable.RouteTableID = v.table
		it.RouteTable.RouteTableType = s.w.table(v.table).typ
		it.OwnerID, it.ResourceGroupID, it.Tags = aliyunOwnerID, aliyunResourceGroup, noTags()
		items = append(items, it)
	}
	resp := &describeVSwitchesResponse{}
	var lo, hi int
	var aerr *apiError
	if resp.PageNumber, resp.PageSize, lo, hi, aerr = p.page(len(items), 10, 50); aerr != nil {
		return nil, aerr
	}
	resp.TotalCount = len(items)
	resp.VSwitches.VSwitch = append([]vswitchItem{}, items[lo:hi]...)
	return resp, nil
}

// match is true when the filter parameter is absent or equal to value.
func match(p params, name, value string) bool {
	f := p.Get(name)
	return f == "" || f == value
}

type routeTableItem struct {
	VpcID          string  `json:"VpcId"`
	RouterID       string  `json:"RouterId"`
	RouterType     string  `json:"RouterType"`
	RouteTableID   string  `json:"RouteTableId"`
	RouteTableType string  `json:"RouteTableType"`
	RouteTableName string  `json:"RouteTableName"`
	Status         string  `json:"Status"`
	CreationTime   string  `json:"CreationTime"`
	Description    string  `json:"Description"`
	AssociateType  string  `json:"AssociateType"`
	VSwitchIDs     strList `json:"VSwitchIds"`
	OwnerID        int64   `json:"OwnerId"`
	ResourceGroup  string  `json:"ResourceGroupId"`
	Propagation    bool    `json:"RoutePropagationEnable"`
	GatewayIDs     struct {
		GatewayIDs []string `json:"GatewayIds"`
	} `json:"GatewayIds"`
	Tags tagList `json:"Tags"`
}

type describeRouteTableListResponse struct {
	base
	Success         bool   `json:"Success"`
	Code            string `json:"Code"`
	Message         string `json:"Message"`
	PageNumber      int    `json:"PageNumber"`
	PageSize        int    `json:"PageSize"`
	TotalCount      int    `json:"TotalCount"`
	RouterTableList struct {
		RouterTableListType []routeTableItem `json:"RouterTableListType"`
	} `json:"RouterTableList"`
}

func (s *Server) describeRouteTableList(p params) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var items []routeTableItem
	for _, t := range s.w.tables {
		v := s.w.vpc(t.vpc)
		if !match(p, "VpcId", t.vpc) || !match(p, "RouteTableId", t.id) || !match(p, "RouterId", v.routerID) ||
			!match(p, "RouteTableType", t.typ) || !match(p, "RouteTableName", t.name) {
			continue
		}
		it := routeTableItem{VpcID: t.vpc, RouterID: v.routerID, RouterType: "VRouter", RouteTableID: t.id,
			RouteTableType: t.typ, RouteTableName: t.name, Status: "Available", CreationTime: s.w.created.Format(timeFormat),
			AssociateType: "VSwitch", VSwitchIDs: strList{VSwitchID: append([]string{}, t.vswitches...)},
			OwnerID: aliyunOwnerID, ResourceGroup: aliyunResourceGroup, Propagation: true, Tags: noTags()}
		it.GatewayIDs.GatewayIDs = []string{}
		items = append(items, it)
	}
	resp := &describeRouteTableListResponse{Success: true, Code: "200", Message: "successful"}
	var lo, hi int
	var aerr *apiError
	if resp.PageNumber, resp.PageSize, lo, hi, aerr = p.page(len(items), 10, 50); aerr != nil {
		return nil, aerr
	}
	resp.TotalCount = len(items)
	resp.RouterTableList.RouterTableListType = append([]routeTableItem{}, items[lo:hi]...)
	return resp, nil
}

type nextHopItem struct {
	NextHopID          string `json:"NextHopId"`
	NextHopType        string `json:"NextHopType"`
	Enabled            int    `json:"Enabled"`
	Weight             int    `json:"Weight"`
	NextHopRegionID    string `json:"NextHopRegionId"`
	NextHopRelatedInfo struct {
		InstanceID   string `json:"InstanceId"`
		InstanceType string `json:"InstanceType"`
		RegionID     string `json:"RegionId"`
	} `json:"NextHopRelatedInfo"`
}

type routeEntryItem struct {
	RouteEntryID         string `json:"RouteEntryId"`
	RouteTableID         string `json:"RouteTableId"`
	DestinationCidrBlock string `json:"DestinationCidrBlock"`
	Type                 string `json:"Type"`
	Status               string `json:"Status"`
	RouteEntryName       string `json:"RouteEntryName"`
	Description          string `json:"Description"`
	IPVersion            string `json:"IpVersion"`
	GmtModified          string `json:"GmtModified"`
	NextHopType          string `json:"NextHopType"`
	InstanceID           string `json:"InstanceId"`
	ServiceType          string `json:"ServiceType"`
	Origin               string `json:"Origin"`
	NextHops             struct {
		NextHop []nextHopItem `json:"NextHop"`
	} `json:"NextHops"`
}

type describeRouteEntryListResponse struct {
	base
	NextToken   string `json:"NextToken"`
	RouteEntrys struct {
		RouteEntry []routeEntryItem `json:"RouteEntry"`
	} `json:"RouteEntrys"`
}

func (s *Server) describeRouteEntryList(p params) (any, *apiError) {
	tableID := p.Get("RouteTableId")
	if tableID == "" {
		return nil, missingParam("RouteTableId")
	}
	// MaxResult is 1-100, 10 when not given (API reference).
	limit, aerr := p.intParam("MaxResult", 10, 1, 100)
	if aerr != nil {
		return nil, aerr
	}
	var from uint64
	if tok := p.Get("NextToken"); tok != "" {
		n, err := strconv.ParseUint(strings.TrimPrefix(tok, "nt-"), 10, 64)
		if !strings.HasPrefix(tok, "nt-") || err != nil {
			return nil, badRequest(CodeNextTokenInvalid, "The specified NextToken %q is invalid: expected the NextToken of a previous answer.", tok)
		}
		from = n
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.w.table(tableID)
	if t == nil {
		return nil, notFound(CodeTableNotFound, "The specified route table %s does not exist.", tableID)
	}
	var dests []string
	for k, v := range p.Values {
		if strings.HasPrefix(k, "DestCidrBlockList.") {
			dests = append(dests, v[0])
		}
	}
	resp := &describeRouteEntryListResponse{}
	resp.RouteEntrys.RouteEntry = []routeEntryItem{}
	for _, e := range t.entries {
		if e.seq < from || !s.entryMatches(p, e, dests) {
			continue
		}
		if len(resp.RouteEntrys.RouteEntry) == limit {
			resp.NextToken = fmt.Sprintf("nt-%d", e.seq)
			break
		}
		resp.RouteEntrys.RouteEntry = append(resp.RouteEntrys.RouteEntry, s.entryItem(e))
	}
	return resp, nil
}

func (s *Server) entryMatches(p params, e *entry, dests []string) bool {
	typ := EntryTypeCustom
	if e.system {
		typ = EntryTypeSystem
	}
	if d := p.Get("DestinationCidrBlock"); d != "" {
		if pd, aerr := parseDestination(d); aerr != nil || pd != e.dest {
			return false
		}
	}
	if len(dests) > 0 && !slices.Contains(dests, e.dest.String()) {
		return false
	}
	return match(p, "RouteEntryType", typ) && match(p, "NextHopId", e.hopID) && match(p, "NextHopType", e.hopType) &&
		match(p, "RouteEntryId", e.id) && match(p, "RouteEntryName", e.name)
}

func (s *Server) entryItem(e *entry) routeEntryItem {
	it := routeEntryItem{RouteEntryID: e.id, RouteTableID: e.table, DestinationCidrBlock: e.dest.String(), Type: EntryTypeCustom,
		Status: e.status, RouteEntryName: e.name, Description: e.desc, IPVersion: "ipv4",
		GmtModified: e.modified.Format(timeFormat), NextHopType: e.hopType, InstanceID: e.hopID}
	it.Origin = "CustomCreate"
	if e.system {
		it.Type, it.Origin = EntryTypeSystem, "SystemCreate"
	}
	hop := nextHopItem{NextHopID: e.hopID, NextHopType: e.hopType, Enabled: 1, NextHopRegionID: s.w.region}
	hop.NextHopRelatedInfo.InstanceID = e.hopID
	hop.NextHopRelatedInfo.InstanceType = e.hopType
	hop.NextHopRelatedInfo.RegionID = s.w.region
	it.NextHops.NextHop = []nextHopItem{hop}
	return it
}
