package sim

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/vpc"
)

// The route-entry actions take the API reference's parameters only; the
// SDK's extra field names are refused, so that a provider sending them
// cannot pass a test the real API would silently fail.
func TestUnknownParametersAreRefused(t *testing.T) {
	ts := start(t)
	c := vpcClient(t)
	customs := func() int {
		return len(listEntries(t, ts, func(r *vpc.DescribeRouteEntryListRequest) { r.RouteEntryType = "Custom" }))
	}
	before := customs()

	// The SDK's misspelt field of CreateRouteEntries.
	batch := at(ts, vpc.CreateCreateRouteEntriesRequest())
	batch.RouteEntries = &[]vpc.CreateRouteEntriesRouteEntries{{RouteTableId: testTable, DstCidrBlock: "10.0.0.0/24",
		NextHop: "i-aaa", NextHopType: "Instance", Name: "vpcroute-lab", Describption: "managed by vpcroute; cluster=lab"}}
	_, err := c.CreateRouteEntries(batch)
	se := wantServerError(t, err, 400, CodeInvalidParameter)
	if !strings.Contains(se.Message(), "RouteEntries.1.Describption is not a parameter of CreateRouteEntries") {
		t.Errorf("message = %q", se.Message())
	}

	// An SDK field the reference no longer lists.
	one := at(ts, vpc.CreateCreateRouteEntryRequest())
	one.RouteTableId, one.DestinationCidrBlock, one.NextHopType, one.NextHopId = testTable, "10.1.0.0/24", "Instance", "i-aaa"
	one.PrivateIpAddress = "192.168.1.196"
	_, err = c.CreateRouteEntry(one)
	wantServerError(t, err, 400, CodeInvalidParameter)

	// A misspelt filter would widen a listing to the whole table.
	list := at(ts, vpc.CreateDescribeRouteEntryListRequest())
	list.RouteTableId = testTable
	list.GetQueryParams()["DestinationCidr"] = "10.0.0.0/24"
	_, err = c.DescribeRouteEntryList(list)
	wantServerError(t, err, 400, CodeInvalidParameter)

	// Dry runs are not simulated: refused, never carried out.
	one.PrivateIpAddress = ""
	one.GetQueryParams()["DryRun"] = "true"
	_, err = c.CreateRouteEntry(one)
	wantServerError(t, err, 400, CodeInvalidParameter)

	if n := customs(); n != before {
		t.Errorf("refused calls changed the table: %d custom entries, had %d", n, before)
	}
	// The same call with the reference's names works (a new request: the
	// SDK keeps a request's parameters once sent).
	batch = at(ts, vpc.CreateCreateRouteEntriesRequest())
	batch.RouteEntries = &[]vpc.CreateRouteEntriesRouteEntries{{RouteTableId: testTable, DstCidrBlock: "10.0.0.0/24",
		NextHop: "i-aaa", NextHopType: "Instance", Name: "vpcroute-lab", Description: "managed by vpcroute; cluster=lab", IpVersion: "4"}}
	if _, err := c.CreateRouteEntries(batch); err != nil {
		t.Fatal(err)
	}
	if e := entryByDest(listEntries(t, ts, nil), "10.0.0.0/24"); e == nil || e.Description != "managed by vpcroute; cluster=lab" {
		t.Errorf("entry = %+v", e)
	}
}

// IpVersion of CreateRouteEntries takes the reference's values, 4 and 6.
func TestCreateRouteEntriesIpVersion(t *testing.T) {
	ts := start(t)
	for i, tt := range []struct {
		version string
		ok      bool
	}{{"", true}, {"4", true}, {"6", false}, {"IPv4", false}, {"ipv4", false}} {
		req := at(ts, vpc.CreateCreateRouteEntriesRequest())
		req.RouteEntries = &[]vpc.CreateRouteEntriesRouteEntries{{RouteTableId: testTable,
			DstCidrBlock: fmt.Sprintf("10.%d.0.0/24", i), NextHop: "i-aaa", NextHopType: "Instance", IpVersion: tt.version}}
		resp, err := vpcClient(t).CreateRouteEntries(req)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case tt.ok && resp.SuccessCount != 1:
			t.Errorf("IpVersion %q refused: %+v", tt.version, resp.FailedRouteEntries)
		case !tt.ok && (resp.FailedCount != 1 || resp.FailedRouteEntries[0].FailedCode != CodeInvalidParameter):
			t.Errorf("IpVersion %q: success %d, failures %+v", tt.version, resp.SuccessCount, resp.FailedRouteEntries)
		}
	}
}

// Without MaxResult a page holds the documented default of 10 entries.
func TestDescribeRouteEntryListDefaultPage(t *testing.T) {
	ts := start(t)
	for i := range 12 {
		createEntry(t, ts, fmt.Sprintf("10.%d.0.0/24", i), "i-aaa")
	}
	req := at(ts, vpc.CreateDescribeRouteEntryListRequest())
	req.RouteTableId = testTable
	resp, err := vpcClient(t).DescribeRouteEntryList(req)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(resp.RouteEntrys.RouteEntry); n != 10 || resp.NextToken == "" {
		t.Errorf("default page: %d entries, NextToken %q; want 10 and a token", n, resp.NextToken)
	}
	req.MaxResult = requests.NewInteger(100)
	if resp, err = vpcClient(t).DescribeRouteEntryList(req); err != nil || resp.NextToken != "" {
		t.Errorf("MaxResult 100: NextToken %q, err %v; want the whole table", resp.NextToken, err)
	}
}

func TestIndexless(t *testing.T) {
	for in, want := range map[string]string{
		"RouteEntries.12.Name":        "RouteEntries.N.Name",
		"DestCidrBlockList.3":         "DestCidrBlockList.N",
		"NextHopList.1.Weight":        "NextHopList.N.Weight",
		"RouteTableId":                "RouteTableId",
		"RouteEntries.x.Name":         "RouteEntries.x.Name",
		"RouteEntries.1.Describption": "RouteEntries.N.Describption",
	} {
		if got := indexless(in); got != want {
			t.Errorf("indexless(%q) = %q, want %q", in, got, want)
		}
	}
}

// The describe calls vpcroute makes take their documented parameters only:
// a misspelt filter (which the real API would likely ignore, widening the
// answer) is refused, and the documented one works.
func TestDescribeCallsRefuseUnknownParameters(t *testing.T) {
	ts := start(t)
	c := vpcClient(t)
	vpcs := at(ts, vpc.CreateDescribeVpcsRequest())
	vpcs.GetQueryParams()["VpcIds"] = "vpc-lab"
	_, err := c.DescribeVpcs(vpcs)
	se := wantServerError(t, err, 400, CodeInvalidParameter)
	if !strings.Contains(se.Message(), "VpcIds is not a parameter of DescribeVpcs") {
		t.Errorf("message = %q", se.Message())
	}
	vsw := at(ts, vpc.CreateDescribeVSwitchesRequest())
	vsw.GetQueryParams()["VpcID"] = "vpc-lab"
	_, err = c.DescribeVSwitches(vsw)
	wantServerError(t, err, 400, CodeInvalidParameter)
	tables := at(ts, vpc.CreateDescribeRouteTableListRequest())
	tables.GetQueryParams()["RouteTableIds"] = testTable
	_, err = c.DescribeRouteTableList(tables)
	wantServerError(t, err, 400, CodeInvalidParameter)

	ok := at(ts, vpc.CreateDescribeVSwitchesRequest())
	ok.VpcId = "vpc-lab"
	ok.PageSize = requests.NewInteger(50)
	if _, err := c.DescribeVSwitches(ok); err != nil {
		t.Fatalf("documented parameters refused: %v", err)
	}
}
