package sim

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/vpc"
)

func TestPendingThenAvailable(t *testing.T) {
	const delay = 150 * time.Millisecond
	ts := start(t, WithPendingDelay(delay))
	created := time.Now()
	createEntry(t, ts, "10.0.0.0/24", "i-aaa")
	if e := entryByDest(listEntries(t, ts, nil), "10.0.0.0/24"); e == nil || e.Status != "Pending" {
		t.Fatalf("right after create: %+v, want Pending", e)
	}
	// Poll instead of sleeping a fixed time: the test asserts the order and
	// the lower bound, not the scheduler's punctuality.
	for {
		e := entryByDest(listEntries(t, ts, nil), "10.0.0.0/24")
		if e.Status == "Available" {
			if since := time.Since(created); since < delay {
				t.Fatalf("Available after %v, before the pending delay %v", since, delay)
			}
			break
		}
		if e.Status != "Pending" || time.Since(created) > 5*time.Second {
			t.Fatalf("status %s after %v", e.Status, time.Since(created))
		}
		time.Sleep(10 * time.Millisecond)
	}

	del := at(ts, vpc.CreateDeleteRouteEntryRequest())
	del.RouteTableId, del.DestinationCidrBlock = testTable, "10.0.0.0/24"
	if _, err := vpcClient(t).DeleteRouteEntry(del); err != nil {
		t.Fatal(err)
	}
	if e := entryByDest(listEntries(t, ts, nil), "10.0.0.0/24"); e == nil || e.Status != "Deleting" {
		t.Fatalf("right after delete: %+v, want Deleting", e)
	}
	ts.Settle()
	if e := entryByDest(listEntries(t, ts, nil), "10.0.0.0/24"); e != nil {
		t.Fatalf("after Settle: %+v, want gone", e)
	}
}

func TestPerVPCConflict(t *testing.T) {
	ts := start(t, WithPendingDelay(time.Hour)) // transitions end only by Settle
	createEntry(t, ts, "10.0.0.0/24", "i-aaa")
	if !ts.Busy(testVPC) {
		t.Fatal("VPC not busy with a Pending entry")
	}
	c := vpcClient(t)
	req := at(ts, vpc.CreateCreateRouteEntryRequest())
	req.RouteTableId, req.DestinationCidrBlock, req.NextHopType, req.NextHopId = testTable, "10.1.0.0/24", "Instance", "i-bbb"
	_, err := c.CreateRouteEntry(req)
	se := wantServerError(t, err, 400, CodeIncorrectEntryStatus)
	if !strings.Contains(se.Message(), "10.0.0.0/24") {
		t.Errorf("message does not name the busy entry: %s", se.Message())
	}
	del := at(ts, vpc.CreateDeleteRouteEntryRequest())
	del.RouteTableId, del.DestinationCidrBlock = testTable, "10.0.0.0/24"
	_, err = c.DeleteRouteEntry(del)
	wantServerError(t, err, 400, CodeIncorrectEntryStatus)

	ts.Settle()
	if _, err := c.CreateRouteEntry(req); err != nil {
		t.Fatalf("after Settle: %v", err)
	}
	st := ts.Stats()
	if st.Count("CreateRouteEntry", CodeIncorrectEntryStatus) != 1 || st.Count("CreateRouteEntry", "ok") != 2 {
		t.Errorf("stats = %+v", st.Actions["CreateRouteEntry"])
	}
}

func TestConflictCodeAlternate(t *testing.T) {
	ts := start(t, WithPendingDelay(time.Hour), WithBehaviour(func(b *Behaviour) { b.ConflictCode = ConflictAlternate }))
	createEntry(t, ts, "10.0.0.0/24", "i-aaa")
	var got []string
	for range 4 {
		req := at(ts, vpc.CreateCreateRouteEntryRequest())
		req.RouteTableId, req.DestinationCidrBlock, req.NextHopType, req.NextHopId = testTable, "10.1.0.0/24", "Instance", "i-bbb"
		_, err := vpcClient(t).CreateRouteEntry(req)
		got = append(got, wantServerError(t, err, 400, errCode(err)).ErrorCode())
	}
	want := []string{CodeIncorrectEntryStatus, CodeTaskConflict, CodeOperationConflict, CodeIncorrectEntryStatus}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("codes = %v, want %v", got, want)
	}
}

// errCode is the SDK error's code, "" for other errors.
func errCode(err error) string {
	var se *sdkerrors.ServerError
	if errors.As(err, &se) {
		return se.ErrorCode()
	}
	return ""
}

func TestConcurrentCreatesSerialized(t *testing.T) {
	ts := start(t, WithPendingDelay(time.Hour))
	var wg sync.WaitGroup
	results := make([]error, 5)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := at(ts, vpc.CreateCreateRouteEntryRequest())
			req.RouteTableId, req.DestinationCidrBlock, req.NextHopType, req.NextHopId = testTable, fmt.Sprintf("10.%d.0.0/24", i), "Instance", "i-aaa"
			_, results[i] = vpcClient(t).CreateRouteEntry(req)
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range results {
		if err == nil {
			ok++
		} else if errCode(err) != CodeIncorrectEntryStatus {
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d concurrent creates succeeded in one VPC, want exactly 1", ok)
	}
}

func TestQuota(t *testing.T) {
	ts := start(t, WithBehaviour(func(b *Behaviour) { b.Quota = 3 }))
	// The unowned NAT entry is one of the 3.
	createEntry(t, ts, "10.0.0.0/24", "i-aaa")
	createEntry(t, ts, "10.1.0.0/24", "i-bbb")
	req := at(ts, vpc.CreateCreateRouteEntryRequest())
	req.RouteTableId, req.DestinationCidrBlock, req.NextHopType, req.NextHopId = testTable, "10.2.0.0/24", "Instance", "i-aaa"
	_, err := vpcClient(t).CreateRouteEntry(req)
	se := wantServerError(t, err, 400, CodeQuotaExceeded)
	for _, want := range []string{"quota", testTable, "3"} {
		if !strings.Contains(se.Message(), want) {
			t.Errorf("quota message %q does not mention %q", se.Message(), want)
		}
	}
}

func TestCreateValidation(t *testing.T) {
	ts := start(t)
	createEntry(t, ts, "10.0.0.0/24", "i-aaa")
	cases := []struct {
		name, table, dest, hopType, hop string
		status                          int
		code                            string
	}{
		{"duplicate", testTable, "10.0.0.0/24", "Instance", "i-bbb", 400, CodeDuplicate},
		{"malformed", testTable, "10.0.0.300/24", "Instance", "i-aaa", 400, CodeCIDRMalformed},
		{"host bits set", testTable, "10.0.0.1/24", "Instance", "i-aaa", 400, CodeCIDRMalformed},
		{"ipv6", testTable, "fd00::/64", "Instance", "i-aaa", 400, CodeCIDRMalformed},
		{"vswitch equal", testTable, "192.168.1.0/24", "Instance", "i-aaa", 400, CodeCIDROverlapped},
		{"inside vswitch", testTable, "192.168.1.128/25", "Instance", "i-aaa", 400, CodeCIDROverlapped},
		{"unknown instance", testTable, "10.5.0.0/24", "Instance", "i-zzz", 404, CodeInstanceNotFound},
		{"bad next hop type", testTable, "10.5.0.0/24", "Teleport", "x", 400, CodeNextHopTypeInvalid},
		{"missing next hop", testTable, "10.5.0.0/24", "Instance", "", 400, CodeMissingParameter},
		{"unknown table", "vtb-zzz", "10.5.0.0/24", "Instance", "i-aaa", 404, CodeTableNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := at(ts, vpc.CreateCreateRouteEntryRequest())
			req.RouteTableId, req.DestinationCidrBlock, req.NextHopType, req.NextHopId = tc.table, tc.dest, tc.hopType, tc.hop
			_, err := vpcClient(t).CreateRouteEntry(req)
			wantServerError(t, err, tc.status, tc.code)
		})
	}
	// A destination containing a vswitch CIDR is allowed, and a bare address
	// is a /32.
	createEntry(t, ts, "192.168.0.0/16", "i-aaa")
	createEntry(t, ts, "10.9.9.9", "i-aaa")
	if entryByDest(listEntries(t, ts, nil), "10.9.9.9/32") == nil {
		t.Error("bare address not stored as /32")
	}
}

func TestThrottling(t *testing.T) {
	ts := start(t, WithBehaviour(func(b *Behaviour) {
		b.Throttle.Reads = BucketSpec{Capacity: 2, RefillPerSecond: 0.001}
	}))
	for range 2 {
		listEntries(t, ts, nil)
	}
	req := at(ts, vpc.CreateDescribeRouteEntryListRequest())
	req.RouteTableId = testTable
	_, err := vpcClient(t).DescribeRouteEntryList(req)
	wantServerError(t, err, 400, CodeThrottling)
	// Writes have their own (unlimited) bucket.
	createEntry(t, ts, "10.0.0.0/24", "i-aaa")
	if got := ts.Stats().Count("DescribeRouteEntryList", CodeThrottling); got != 1 {
		t.Errorf("throttled calls counted %d, want 1", got)
	}
}

func TestThrottleRefill(t *testing.T) {
	b := newBucket(BucketSpec{Capacity: 1, RefillPerSecond: 10}, time.Unix(0, 0))
	if !b.take(time.Unix(0, 0)) || b.take(time.Unix(0, 0)) {
		t.Fatal("a bucket of 1 must give exactly one token at once")
	}
	if b.take(time.Unix(0, 50*int64(time.Millisecond))) {
		t.Fatal("half a token after 50ms at 10/s")
	}
	if !b.take(time.Unix(0, 150*int64(time.Millisecond))) {
		t.Fatal("no token after 150ms at 10/s")
	}
}

func TestInjectedFaults(t *testing.T) {
	ts := start(t)
	if err := ts.AddFault(FaultRule{Action: "CreateRouteEntry", Code: CodeTaskConflict, Count: 2}); err != nil {
		t.Fatal(err)
	}
	req := func(dest string) *vpc.CreateRouteEntryRequest {
		r := at(ts, vpc.CreateCreateRouteEntryRequest())
		r.RouteTableId, r.DestinationCidrBlock, r.NextHopType, r.NextHopId = testTable, dest, "Instance", "i-aaa"
		return r
	}
	for range 2 {
		_, err := vpcClient(t).CreateRouteEntry(req("10.0.0.0/24"))
		wantServerError(t, err, 400, CodeTaskConflict)
	}
	if _, err := vpcClient(t).CreateRouteEntry(req("10.0.0.0/24")); err != nil {
		t.Fatalf("third call after a count-2 fault: %v", err)
	}
	if len(ts.Faults()) != 0 {
		t.Errorf("spent rule still listed: %+v", ts.Faults())
	}

	if err := ts.AddFault(FaultRule{Action: "*", Code: CodeServiceUnavailable, Count: 1}); err != nil {
		t.Fatal(err)
	}
	_, err := vpcClient(t).CreateRouteEntry(req("10.1.0.0/24"))
	wantServerError(t, err, 503, CodeServiceUnavailable)

	if err := ts.AddFault(FaultRule{Action: "DescribeRouteEntryList", Close: true, Count: 1}); err != nil {
		t.Fatal(err)
	}
	lr := at(ts, vpc.CreateDescribeRouteEntryListRequest())
	lr.RouteTableId = testTable
	_, err = vpcClient(t).DescribeRouteEntryList(lr)
	var transport *url.Error
	if !errors.As(err, &transport) {
		t.Fatalf("dropped connection: want a transport (*url.Error) error, got %T %v", err, err)
	}
	st := ts.Stats()
	if st.Count("CreateRouteEntry", CodeTaskConflict) != 2 || st.Count("CreateRouteEntry", CodeServiceUnavailable) != 1 ||
		st.Count("DescribeRouteEntryList", outcomeTransportError) != 1 {
		t.Errorf("stats = %+v", st.Actions)
	}
	// Nothing was created by the failed calls.
	if e := entryByDest(listEntries(t, ts, nil), "10.1.0.0/24"); e != nil {
		t.Errorf("a failed call created %+v", e)
	}
}

func TestFaultProbability(t *testing.T) {
	ts := start(t, WithSeed(7))
	if err := ts.AddFault(FaultRule{Action: "DescribeVpcs", Code: "Throttling.Api", Probability: 0.5}); err != nil {
		t.Fatal(err)
	}
	failed := 0
	for range 40 {
		req := at(ts, vpc.CreateDescribeVpcsRequest())
		if _, err := vpcClient(t).DescribeVpcs(req); err != nil {
			failed++
		}
	}
	if failed == 0 || failed == 40 {
		t.Errorf("probability 0.5 fault fired %d of 40 times", failed)
	}
}

func TestLatency(t *testing.T) {
	ts := start(t, WithBehaviour(func(b *Behaviour) { b.Latency = 100 * time.Millisecond }))
	began := time.Now()
	listEntries(t, ts, nil)
	if d := time.Since(began); d < 100*time.Millisecond {
		t.Errorf("call took %v with 100ms latency", d)
	}
}

func TestRawFormBodyAccepted(t *testing.T) {
	ts := start(t, WithBehaviour(func(b *Behaviour) { b.Signature = "ignore" }))
	form := url.Values{"Action": {"DescribeVpcs"}, "RegionId": {testRegion}, "AccessKeyId": {testKey}, "Format": {"JSON"}}
	resp, err := ts.HTTP.Client().PostForm(ts.URL+"/", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("form body call: status %d", resp.StatusCode)
	}
	if ts.Stats().Count("DescribeVpcs", "ok") != 1 {
		t.Errorf("stats = %+v", ts.Stats())
	}
}
