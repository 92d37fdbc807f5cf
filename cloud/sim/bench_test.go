package sim

import (
	"fmt"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/vpc"
)

// BenchmarkListFullTable measures one full listing of a table at its
// default quota (200 custom entries) through the real SDK, two pages of 100.
func BenchmarkListFullTable(b *testing.B) {
	ts := NewTestServer(b, DefaultTopology(), WithPendingDelay(0))
	for i := range DefaultQuota - 1 { // the unowned NAT entry is the 200th
		if _, err := ts.PutRoute(PutRouteRequest{Table: testTable, Destination: fmt.Sprintf("10.%d.%d.0/24", i/256, i%256),
			NextHopType: "Instance", NextHopID: "i-aaa"}); err != nil {
			b.Fatal(err)
		}
	}
	c, err := vpc.NewClientWithOptions(testRegion, sdkConfig(), credentials.NewAccessKeyCredential(testKey, testSecret))
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		token, n := "", 0
		for {
			req := at(ts, vpc.CreateDescribeRouteEntryListRequest())
			req.RouteTableId, req.RouteEntryType, req.MaxResult, req.NextToken = testTable, "Custom", requests.NewInteger(100), token
			resp, err := c.DescribeRouteEntryList(req)
			if err != nil {
				b.Fatal(err)
			}
			n += len(resp.RouteEntrys.RouteEntry)
			if token = resp.NextToken; token == "" {
				break
			}
		}
		if n != DefaultQuota {
			b.Fatalf("listed %d entries, want %d", n, DefaultQuota)
		}
	}
}
