package sim

import (
	"fmt"
	"slices"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/vpc"
)

func TestSDKDescribeVpcs(t *testing.T) {
	ts := start(t)
	req := at(ts, vpc.CreateDescribeVpcsRequest())
	req.VpcId = testVPC
	resp, err := vpcClient(t).DescribeVpcs(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.TotalCount != 1 || len(resp.Vpcs.Vpc) != 1 {
		t.Fatalf("want 1 VPC, got %d (%+v)", resp.TotalCount, resp.Vpcs.Vpc)
	}
	v := resp.Vpcs.Vpc[0]
	if v.VpcId != testVPC || v.CidrBlock != "192.168.0.0/16" || v.RegionId != testRegion || v.VRouterId == "" {
		t.Errorf("VPC = %+v", v)
	}
	if !slices.Equal(v.VSwitchIds.VSwitchId, []string{"vsw-lab"}) {
		t.Errorf("VSwitchIds = %v", v.VSwitchIds.VSwitchId)
	}
	if len(v.SecondaryCidrBlocks.SecondaryCidrBlock) != 0 {
		t.Errorf("SecondaryCidrBlocks = %v", v.SecondaryCidrBlocks.SecondaryCidrBlock)
	}

	req.VpcId = "vpc-other"
	resp, err = vpcClient(t).DescribeVpcs(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.TotalCount != 0 || len(resp.Vpcs.Vpc) != 0 {
		t.Errorf("unknown VPC listed: %+v", resp.Vpcs.Vpc)
	}
}

func TestSDKDescribeVSwitches(t *testing.T) {
	ts := start(t)
	req := at(ts, vpc.CreateDescribeVSwitchesRequest())
	req.VpcId = testVPC
	resp, err := vpcClient(t).DescribeVSwitches(req)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.VSwitches.VSwitch) != 1 {
		t.Fatalf("want 1 vswitch, got %+v", resp.VSwitches.VSwitch)
	}
	v := resp.VSwitches.VSwitch[0]
	if v.VSwitchId != "vsw-lab" || v.CidrBlock != "192.168.1.0/24" || v.ZoneId != "cn-zhangjiakou-a" || v.RouteTable.RouteTableId != testTable {
		t.Errorf("vswitch = %+v", v)
	}
	// 256 addresses, 4 reserved, 2 instances.
	if v.AvailableIpAddressCount != 250 {
		t.Errorf("AvailableIpAddressCount = %d, want 250", v.AvailableIpAddressCount)
	}
}

func TestSDKDescribeRouteTableList(t *testing.T) {
	ts := start(t)
	req := at(ts, vpc.CreateDescribeRouteTableListRequest())
	req.VpcId = testVPC
	resp, err := vpcClient(t).DescribeRouteTableList(req)
	if err != nil {
		t.Fatal(err)
	}
	tables := resp.RouterTableList.RouterTableListType
	if !resp.Success || resp.TotalCount != 1 || len(tables) != 1 {
		t.Fatalf("want one table, got %+v", resp)
	}
	tb := tables[0]
	if tb.RouteTableId != testTable || tb.VpcId != testVPC || tb.RouteTableType != "System" || tb.RouterType != "VRouter" {
		t.Errorf("table = %+v", tb)
	}
	if !slices.Equal(tb.VSwitchIds.VSwitchId, []string{"vsw-lab"}) {
		t.Errorf("VSwitchIds = %v", tb.VSwitchIds.VSwitchId)
	}
	req.RouteTableId = "vtb-missing"
	resp, err = vpcClient(t).DescribeRouteTableList(req)
	if err != nil || len(resp.RouterTableList.RouterTableListType) != 0 {
		t.Errorf("filter by a missing RouteTableId: %v, %+v", err, resp)
	}
}

func TestSDKDescribeRouteEntryListShape(t *testing.T) {
	ts := start(t)
	entries := listEntries(t, ts, nil)
	sys := entryByDest(entries, "192.168.1.0/24")
	if sys == nil || sys.Type != "System" || sys.Status != "Available" || sys.NextHopType != "local" {
		t.Errorf("vswitch system entry = %+v", sys)
	}
	if e := entryByDest(entries, "100.64.0.0/10"); e == nil || e.Type != "System" {
		t.Errorf("cloud service system entry = %+v", e)
	}
	nat := entryByDest(entries, "0.0.0.0/0")
	if nat == nil || nat.Type != "Custom" || nat.RouteEntryName != "internet" || nat.RouteTableId != testTable {
		t.Fatalf("unowned NAT entry = %+v", nat)
	}
	hops := nat.NextHops.NextHop
	if len(hops) != 1 || hops[0].NextHopType != "NatGateway" || hops[0].NextHopId != "ngw-lab" || hops[0].Enabled != 1 {
		t.Errorf("NAT next hops = %+v", hops)
	}
	if nat.InstanceId != "ngw-lab" || nat.NextHopType != "NatGateway" {
		t.Errorf("flat next hop fields = %q %q", nat.NextHopType, nat.InstanceId)
	}

	custom := listEntries(t, ts, func(r *vpc.DescribeRouteEntryListRequest) { r.RouteEntryType = "Custom" })
	if len(custom) != 1 || custom[0].DestinationCidrBlock != "0.0.0.0/0" {
		t.Errorf("RouteEntryType=Custom filter = %+v", custom)
	}
	byDest := listEntries(t, ts, func(r *vpc.DescribeRouteEntryListRequest) { r.DestinationCidrBlock = "192.168.1.0/24" })
	if len(byDest) != 1 {
		t.Errorf("DestinationCidrBlock filter = %+v", byDest)
	}
}

func TestSDKDescribeRouteEntryListErrors(t *testing.T) {
	ts := start(t)
	c := vpcClient(t)
	req := at(ts, vpc.CreateDescribeRouteEntryListRequest())
	_, err := c.DescribeRouteEntryList(req)
	wantServerError(t, err, 400, CodeMissingParameter)

	req.RouteTableId = "vtb-missing"
	_, err = c.DescribeRouteEntryList(req)
	wantServerError(t, err, 404, CodeTableNotFound)

	req.RouteTableId = testTable
	req.MaxResult = requests.NewInteger(101)
	_, err = c.DescribeRouteEntryList(req)
	wantServerError(t, err, 400, CodeInvalidParameter)

	req.MaxResult = requests.NewInteger(10)
	req.NextToken = "garbage"
	_, err = c.DescribeRouteEntryList(req)
	wantServerError(t, err, 400, CodeNextTokenInvalid)
}

func TestSDKPagingWithNextToken(t *testing.T) {
	ts := start(t)
	for i := range 7 {
		createEntry(t, ts, fmt.Sprintf("10.%d.0.0/24", i), "i-aaa")
	}
	c := vpcClient(t)
	var seen []string
	token, pages := "", 0
	for {
		req := at(ts, vpc.CreateDescribeRouteEntryListRequest())
		req.RouteTableId = testTable
		req.RouteEntryType = "Custom"
		req.MaxResult = requests.NewInteger(3)
		req.NextToken = token
		resp, err := c.DescribeRouteEntryList(req)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(resp.RouteEntrys.RouteEntry) > 3 {
			t.Fatalf("page of %d entries with MaxResult 3", len(resp.RouteEntrys.RouteEntry))
		}
		for _, e := range resp.RouteEntrys.RouteEntry {
			seen = append(seen, e.DestinationCidrBlock)
		}
		if resp.NextToken == "" {
			break
		}
		token = resp.NextToken
	}
	// 1 unowned + 7 created = 8 custom entries: pages of 3, 3, 2.
	if pages != 3 || len(seen) != 8 {
		t.Fatalf("pages=%d entries=%v", pages, seen)
	}
	if want := "0.0.0.0/0"; seen[0] != want {
		t.Errorf("first entry %s, want %s (creation order)", seen[0], want)
	}
	slices.Sort(seen)
	if len(slices.Compact(seen)) != 8 {
		t.Errorf("duplicates across pages: %v", seen)
	}
}

func TestSDKCreateRouteEntries(t *testing.T) {
	ts := start(t)
	req := at(ts, vpc.CreateCreateRouteEntriesRequest())
	req.RouteEntries = &[]vpc.CreateRouteEntriesRouteEntries{
		{RouteTableId: testTable, DstCidrBlock: "10.0.0.0/24", NextHop: "i-aaa", NextHopType: "Instance", Name: "vpcroute-a", Description: "owned by test"},
		{RouteTableId: testTable, DstCidrBlock: "10.1.0.0/24", NextHop: "i-bbb", NextHopType: "Instance", Name: "vpcroute-b"},
		{RouteTableId: testTable, DstCidrBlock: "10.0.0.0/24", NextHop: "i-bbb", NextHopType: "Instance"},     // duplicate in the batch
		{RouteTableId: testTable, DstCidrBlock: "10.2.0.0/24", NextHop: "i-missing", NextHopType: "Instance"}, // unknown instance
	}
	resp, err := vpcClient(t).CreateRouteEntries(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.SuccessCount != 2 || resp.FailedCount != 2 || len(resp.RouteEntryIds) != 2 {
		t.Fatalf("success=%d failed=%d ids=%v failures=%+v", resp.SuccessCount, resp.FailedCount, resp.RouteEntryIds, resp.FailedRouteEntries)
	}
	codes := []string{resp.FailedRouteEntries[0].FailedCode, resp.FailedRouteEntries[1].FailedCode}
	if !slices.Equal(codes, []string{CodeDuplicate, CodeInstanceNotFound}) {
		t.Errorf("failed codes = %v", codes)
	}
	if f := resp.FailedRouteEntries[1]; f.DstCidrBlock != "10.2.0.0/24" || f.NextHop != "i-missing" || f.FailedMessage == "" {
		t.Errorf("failed entry = %+v", f)
	}
	entries := listEntries(t, ts, nil)
	a, b := entryByDest(entries, "10.0.0.0/24"), entryByDest(entries, "10.1.0.0/24")
	if a == nil || a.Description != "owned by test" || a.RouteEntryName != "vpcroute-a" || a.InstanceId != "i-aaa" {
		t.Errorf("entry a = %+v", a)
	}
	if b == nil || b.Description != "" || b.NextHops.NextHop[0].NextHopId != "i-bbb" {
		t.Errorf("entry b = %+v", b)
	}
}

func TestSDKCreateRouteEntriesLimit(t *testing.T) {
	ts := start(t)
	var batch []vpc.CreateRouteEntriesRouteEntries
	for i := range maxBatch + 1 {
		batch = append(batch, vpc.CreateRouteEntriesRouteEntries{RouteTableId: testTable,
			DstCidrBlock: fmt.Sprintf("10.%d.0.0/24", i), NextHop: "i-aaa", NextHopType: "Instance"})
	}
	req := at(ts, vpc.CreateCreateRouteEntriesRequest())
	req.RouteEntries = &batch
	_, err := vpcClient(t).CreateRouteEntries(req)
	wantServerError(t, err, 400, CodeInvalidParameter)
	if n := len(listEntries(t, ts, func(r *vpc.DescribeRouteEntryListRequest) { r.RouteEntryType = "Custom" })); n != 1 {
		t.Errorf("a refused batch changed the table: %d custom entries", n)
	}
}

func TestSDKDeleteRouteEntry(t *testing.T) {
	ts := start(t)
	c := vpcClient(t)
	id := createEntry(t, ts, "10.0.0.0/24", "i-aaa")
	createEntry(t, ts, "10.1.0.0/24", "i-bbb")

	byID := at(ts, vpc.CreateDeleteRouteEntryRequest())
	byID.RouteEntryId = id
	if _, err := c.DeleteRouteEntry(byID); err != nil {
		t.Fatal(err)
	}
	byDest := at(ts, vpc.CreateDeleteRouteEntryRequest())
	byDest.RouteTableId, byDest.DestinationCidrBlock, byDest.NextHopId = testTable, "10.1.0.0/24", "i-aaa"
	_, err := c.DeleteRouteEntry(byDest)
	wantServerError(t, err, 400, CodeEntryNotFound) // wrong next hop
	byDest.NextHopId = "i-bbb"
	if _, err := c.DeleteRouteEntry(byDest); err != nil {
		t.Fatal(err)
	}
	entries := listEntries(t, ts, nil)
	if entryByDest(entries, "10.0.0.0/24") != nil || entryByDest(entries, "10.1.0.0/24") != nil {
		t.Errorf("deleted entries still listed: %+v", entries)
	}
	_, err = c.DeleteRouteEntry(byID)
	wantServerError(t, err, 400, CodeEntryNotFound)

	sys := at(ts, vpc.CreateDeleteRouteEntryRequest())
	sys.RouteTableId, sys.DestinationCidrBlock = testTable, "192.168.1.0/24"
	_, err = c.DeleteRouteEntry(sys)
	wantServerError(t, err, 400, CodeSystemEntry)
}

func TestSDKDeleteRouteEntries(t *testing.T) {
	ts := start(t)
	idA := createEntry(t, ts, "10.0.0.0/24", "i-aaa")
	createEntry(t, ts, "10.1.0.0/24", "i-bbb")
	req := at(ts, vpc.CreateDeleteRouteEntriesRequest())
	req.RouteEntries = &[]vpc.DeleteRouteEntriesRouteEntries{
		{RouteEntryId: idA, RouteTableId: testTable},
		{RouteTableId: testTable, DstCidrBlock: "10.1.0.0/24", NextHop: "i-bbb"},
		{RouteTableId: testTable, DstCidrBlock: "10.9.0.0/24"},
	}
	resp, err := vpcClient(t).DeleteRouteEntries(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.SuccessCount != 2 || resp.FailedCount != 1 || resp.FailedRouteEntries[0].FailedCode != CodeEntryNotFound {
		t.Fatalf("answer = %+v", resp)
	}
	if n := len(listEntries(t, ts, func(r *vpc.DescribeRouteEntryListRequest) { r.RouteEntryType = "Custom" })); n != 1 {
		t.Errorf("%d custom entries left, want only the unowned one", n)
	}
}

func TestSDKModifyRouteEntry(t *testing.T) {
	ts := start(t)
	id := createEntry(t, ts, "10.0.0.0/24", "i-aaa")
	req := at(ts, vpc.CreateModifyRouteEntryRequest())
	req.RouteEntryId = id
	req.Description = "renamed"
	if _, err := vpcClient(t).ModifyRouteEntry(req); err != nil {
		t.Fatal(err)
	}
	e := entryByDest(listEntries(t, ts, nil), "10.0.0.0/24")
	if e.Description != "renamed" || e.RouteEntryName != "vpcroute-test" {
		t.Errorf("after modify: name %q description %q", e.RouteEntryName, e.Description)
	}
	req.NewNextHopId = "i-bbb"
	_, err := vpcClient(t).ModifyRouteEntry(req)
	wantServerError(t, err, 400, CodeUnsupportedModification)
}

func TestSDKCreateRouteEntryClientToken(t *testing.T) {
	ts := start(t)
	c := vpcClient(t)
	mk := func() *vpc.CreateRouteEntryRequest {
		req := at(ts, vpc.CreateCreateRouteEntryRequest())
		req.RouteTableId, req.DestinationCidrBlock, req.NextHopType, req.NextHopId = testTable, "10.0.0.0/24", "Instance", "i-aaa"
		req.ClientToken = "token-1"
		return req
	}
	first, err := c.CreateRouteEntry(mk())
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.CreateRouteEntry(mk())
	if err != nil {
		t.Fatalf("retry with the same ClientToken: %v", err)
	}
	if again.RouteEntryId != first.RouteEntryId {
		t.Errorf("retry answered %s, first call %s", again.RouteEntryId, first.RouteEntryId)
	}
}
