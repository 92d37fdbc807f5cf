package aws

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	awsv2 "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/vpcroute/vpcroute/cloud"
)

// These tests drive the provider's logic through fakeEC2. sim_test.go runs
// the same paths through the real SDK against the simulator.

const (
	testCluster = "lab"
	testTable   = "rtb-test"
)

func newFakeProvider(t *testing.T, f *fakeEC2, edit func(*Options)) (*Provider, *countingObserver) {
	t.Helper()
	obs := &countingObserver{}
	opts := Options{
		Settings: cloud.Settings{
			Cluster:      testCluster,
			ClusterCIDR:  netip.MustParsePrefix("10.0.0.0/8"),
			RetryTimeout: 10 * time.Second,
			Observer:     obs,
		},
		ChangeTimeout: 2 * time.Second,
	}
	if edit != nil {
		edit(&opts)
	}
	if err := opts.Validate(); err != nil {
		t.Fatal(err)
	}
	self := cloud.Instance{ID: "i-aaa", Region: "us-east-1", VPCID: "vpc-test", PrivateIP: netip.MustParseAddr("172.31.1.10"),
		Target: eniTarget("eni-aaa")}
	return newWithAPI(opts, f, self), obs
}

func eniTarget(id string) cloud.Target {
	return cloud.Target{Kind: cloud.TargetNetworkInterface, ID: id}
}

func eniRoute(dst, eni string) cloud.Route {
	return cloud.Route{TableID: testTable, Destination: netip.MustParsePrefix(dst), Target: eniTarget(eni)}
}

// owned lists the table's routes owned by the test cluster as "dst>eni".
func owned(t *testing.T, p *Provider) []string {
	t.Helper()
	rs, err := p.Routes(context.Background(), testTable)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rs {
		if r.OwnedBy(testCluster) {
			out = append(out, r.Destination.String()+">"+r.Target.ID)
		}
	}
	return out
}

func TestRoutesMarksOwnershipAndSkipsWhatItCannotRead(t *testing.T) {
	f := newFake()
	f.addENI("eni-aaa", "i-aaa", testCluster)
	f.addENI("eni-bbb", "i-bbb", testCluster)
	f.addENI("eni-hand", "i-hand", "")
	f.addENI("eni-other", "i-other", "other")
	blackhole := created("10.9.0.0/24", "eni-gone")
	blackhole.State = types.RouteStateBlackhole
	outside := created("192.0.2.0/24", "eni-aaa")
	propagated := types.Route{DestinationCidrBlock: awsv2.String("10.8.0.0/24"), GatewayId: awsv2.String("vgw-1"),
		Origin: types.RouteOriginEnableVgwRoutePropagation, State: types.RouteStateActive}
	f.addTable(testTable,
		types.Route{DestinationCidrBlock: awsv2.String("0.0.0.0/0"), GatewayId: awsv2.String("igw-1"), Origin: types.RouteOriginCreateRoute, State: types.RouteStateActive},
		types.Route{DestinationCidrBlock: awsv2.String("172.16.0.0/16"), VpcPeeringConnectionId: awsv2.String("pcx-1"), Origin: types.RouteOriginCreateRoute, State: types.RouteStateActive},
		types.Route{DestinationPrefixListId: awsv2.String("pl-1"), GatewayId: awsv2.String("vpce-1"), Origin: types.RouteOriginCreateRoute, State: types.RouteStateActive},
		types.Route{DestinationIpv6CidrBlock: awsv2.String("2001:db8::/56"), EgressOnlyInternetGatewayId: awsv2.String("eigw-1"), Origin: types.RouteOriginCreateRoute},
		created("10.0.0.0/24", "eni-aaa"), created("10.1.0.0/24", "eni-bbb"),
		created("10.2.0.0/24", "eni-hand"), created("10.3.0.0/24", "eni-other"),
		blackhole, outside, propagated,
	)
	p, _ := newFakeProvider(t, f, nil)
	rs, err := p.Routes(context.Background(), testTable)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rs {
		got = append(got, fmt.Sprintf("%s %s %s %q %v", r.Destination, r.Target, r.Status, r.Cluster, r.System))
	}
	want := []string{
		`172.31.0.0/16 Local/local Available "" true`,
		`0.0.0.0/0 InternetGateway/igw-1 Available "" false`,
		`172.16.0.0/16 VpcPeeringConnection/pcx-1 Available "" false`,
		`10.0.0.0/24 NetworkInterface/eni-aaa Available "lab" false`,
		`10.1.0.0/24 NetworkInterface/eni-bbb Available "lab" false`,
		`10.2.0.0/24 NetworkInterface/eni-hand Available "" false`,
		`10.3.0.0/24 NetworkInterface/eni-other Available "" false`,
		`10.9.0.0/24 NetworkInterface/eni-gone Blackhole "lab" false`,
		`192.0.2.0/24 NetworkInterface/eni-aaa Available "" false`,
		`10.8.0.0/24 VpnGateway/vgw-1 Available "" true`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Routes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if n := f.count("DescribeNetworkInterfaces"); n != 1 {
		t.Errorf("DescribeNetworkInterfaces calls = %d, want 1 for 4 ENIs", n)
	}
}

func TestCreateRoutes(t *testing.T) {
	f := newFake()
	f.addENI("eni-aaa", "i-aaa", testCluster)
	f.addENI("eni-bbb", "i-bbb", testCluster)
	f.addTable(testTable)
	p, _ := newFakeProvider(t, f, nil)
	ctx := context.Background()
	if err := p.CreateRoutes(ctx, testTable, []cloud.Route{eniRoute("10.0.0.0/24", "eni-aaa"), eniRoute("10.0.1.0/24", "eni-aaa")}); err != nil {
		t.Fatal(err)
	}
	if got := owned(t, p); fmt.Sprint(got) != "[10.0.0.0/24>eni-aaa 10.0.1.0/24>eni-aaa]" {
		t.Errorf("owned = %v", got)
	}
	// Another run got there first with the same target: success.
	if err := p.CreateRoutes(ctx, testTable, []cloud.Route{eniRoute("10.0.0.0/24", "eni-aaa")}); err != nil {
		t.Errorf("RouteAlreadyExists pointing at us must succeed: %v", err)
	}
	// Held by another ENI: an error naming the holder.
	err := p.CreateRoutes(ctx, testTable, []cloud.Route{eniRoute("10.0.1.0/24", "eni-bbb")})
	if err == nil || !strings.Contains(err.Error(), "10.0.1.0/24 in rtb-test: destination is held by NetworkInterface/eni-aaa (vpcroute cluster lab)") {
		t.Errorf("err = %v", err)
	}
	if n := f.count("CreateRoute"); n != 4 {
		t.Errorf("CreateRoute calls = %d, want 4", n)
	}
}

func TestWritesRefuseWhatCouldNotBeOwned(t *testing.T) {
	f := newFake()
	f.addTable(testTable)
	p, _ := newFakeProvider(t, f, nil)
	// Set up without a cluster, a provider recognises no route as its
	// own: it writes none.
	unowned, _ := newFakeProvider(t, f, func(o *Options) { o.Cluster, o.ClusterCIDR = "", netip.Prefix{} })
	ctx := context.Background()
	tests := []struct {
		p    *Provider
		r    cloud.Route
		want string
	}{
		{p, cloud.Route{Destination: netip.MustParsePrefix("10.0.0.0/24"), Target: cloud.Target{Kind: cloud.TargetInstance, ID: "i-aaa"}},
			"target Instance/i-aaa is invalid: expected a NetworkInterface target (eni-...)"},
		{p, eniRoute("192.168.0.0/24", "eni-aaa"), "destination is invalid: expected an IPv4 CIDR inside cluster CIDR 10.0.0.0/8"},
		{p, eniRoute("0.0.0.0/0", "eni-aaa"), "destination is invalid"},
		{unowned, eniRoute("10.0.0.0/24", "eni-aaa"), "cannot create routes: the aws provider was set up without cluster-name and cluster-cidr"},
	}
	for _, tt := range tests {
		err := tt.p.CreateRoutes(ctx, testTable, []cloud.Route{tt.r})
		if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("CreateRoutes(%s) by cluster %q = %v, want one line with %q", tt.r, tt.p.opts.Cluster, err, tt.want)
		}
		if err := tt.p.ReplaceRoutes(ctx, testTable, []cloud.Route{tt.r}); err == nil {
			t.Errorf("ReplaceRoutes(%s) by cluster %q succeeded", tt.r, tt.p.opts.Cluster)
		}
	}
	if err := unowned.DeleteRoutes(ctx, testTable, []cloud.Route{eniRoute("10.0.0.0/24", "eni-aaa")}); err == nil {
		t.Error("DeleteRoutes by a provider without a cluster succeeded")
	}
	if err := unowned.PrepareHost(ctx); err == nil {
		t.Error("PrepareHost by a provider without a cluster succeeded")
	}
	if w := f.writes(); w != 0 {
		t.Errorf("%d writes were sent for bad input", w)
	}
}

func TestDeleteRechecksOwnership(t *testing.T) {
	f := newFake()
	f.addENI("eni-aaa", "i-aaa", testCluster)
	f.addENI("eni-hand", "i-hand", "")
	f.addTable(testTable, created("10.0.0.0/24", "eni-aaa"), created("10.2.0.0/24", "eni-hand"))
	p, _ := newFakeProvider(t, f, nil)
	ctx := context.Background()
	err := p.DeleteRoutes(ctx, testTable, []cloud.Route{eniRoute("10.2.0.0/24", "eni-hand")})
	if err == nil || !strings.Contains(err.Error(), `refusing to delete 10.2.0.0/24 -> NetworkInterface/eni-hand in rtb-test: the route is not owned by vpcroute cluster "lab"`) {
		t.Errorf("err = %v", err)
	}
	if w := f.writes(); w != 0 {
		t.Fatalf("a write was sent for a route vpcroute does not own")
	}
	if err := p.DeleteRoutes(ctx, testTable, []cloud.Route{eniRoute("10.0.0.0/24", "eni-aaa")}); err != nil {
		t.Fatal(err)
	}
	if got := owned(t, p); len(got) != 0 {
		t.Errorf("owned after delete = %v", got)
	}
	// Gone already: success, nothing sent.
	if err := p.DeleteRoutes(ctx, testTable, []cloud.Route{eniRoute("10.0.0.0/24", "eni-aaa")}); err != nil {
		t.Errorf("delete of a missing route: %v", err)
	}
	if n := f.count("DeleteRoute"); n != 1 {
		t.Errorf("DeleteRoute calls = %d, want 1", n)
	}
}

func TestDeleteNotFoundIsSuccess(t *testing.T) {
	f := newFake()
	f.addENI("eni-aaa", "i-aaa", testCluster)
	f.addTable(testTable, created("10.0.0.0/24", "eni-aaa"))
	f.fail = func(action string) error {
		if action == "DeleteRoute" {
			return apiErr(action, 400, codeRouteNotFound, "gone meanwhile")
		}
		return nil
	}
	p, _ := newFakeProvider(t, f, nil)
	if err := p.DeleteRoutes(context.Background(), testTable, []cloud.Route{eniRoute("10.0.0.0/24", "eni-aaa")}); err != nil {
		t.Errorf("InvalidRoute.NotFound on delete must be success: %v", err)
	}
}

func TestReplaceMovesOwnedRoutesAtomically(t *testing.T) {
	f := newFake()
	f.addENI("eni-aaa", "i-aaa", testCluster)
	f.addENI("eni-old", "i-old", testCluster)
	f.addENI("eni-hand", "i-hand", "")
	f.addTable(testTable, created("10.0.0.0/24", "eni-old"), created("10.2.0.0/24", "eni-hand"))
	p, _ := newFakeProvider(t, f, nil)
	ctx := context.Background()
	err := p.ReplaceRoutes(ctx, testTable, []cloud.Route{
		eniRoute("10.0.0.0/24", "eni-aaa"), // owned, wrong ENI: replaced
		eniRoute("10.1.0.0/24", "eni-aaa"), // missing: created
		eniRoute("10.2.0.0/24", "eni-aaa"), // not ours: refused
	})
	if err == nil || !strings.Contains(err.Error(), `refusing to replace 10.2.0.0/24: it is held by a route not vpcroute's`) {
		t.Errorf("err = %v", err)
	}
	if got := owned(t, p); fmt.Sprint(got) != "[10.0.0.0/24>eni-aaa 10.1.0.0/24>eni-aaa]" {
		t.Errorf("owned = %v", got)
	}
	if r, c, d := f.count("ReplaceRoute"), f.count("CreateRoute"), f.count("DeleteRoute"); r != 1 || c != 1 || d != 0 {
		t.Errorf("ReplaceRoute/CreateRoute/DeleteRoute = %d/%d/%d, want 1/1/0", r, c, d)
	}
}

func TestRouteLimitIsAQuotaErrorWithCount(t *testing.T) {
	f := newFake()
	f.limit = 3 // the local route and two added ones
	f.addENI("eni-aaa", "i-aaa", testCluster)
	f.addTable(testTable, created("10.0.0.0/24", "eni-aaa"),
		types.Route{DestinationPrefixListId: awsv2.String("pl-1"), GatewayId: awsv2.String("vpce-1"), Origin: types.RouteOriginCreateRoute})
	p, obs := newFakeProvider(t, f, nil)
	err := p.CreateRoutes(context.Background(), testTable, []cloud.Route{eniRoute("10.0.1.0/24", "eni-aaa"), eniRoute("10.0.2.0/24", "eni-aaa")})
	var qe *cloud.QuotaError
	if !errors.As(err, &qe) || !errors.Is(err, cloud.ErrQuotaExceeded) {
		t.Fatalf("err = %v, want a QuotaError", err)
	}
	if qe.TableID != testTable || qe.Used != 2 || qe.Quota != 2 || qe.Code != codeRouteLimit {
		t.Errorf("QuotaError = %+v, want 2 added routes (one of ours, the endpoint's) of 2", qe)
	}
	if n := f.count("CreateRoute"); n != 1 {
		t.Errorf("CreateRoute calls = %d, want 1: a full table is neither retried nor sent the rest", n)
	}
	if n := obs.get("CreateRoute/error"); n != 1 {
		t.Errorf("observed CreateRoute errors = %d", n)
	}
}

func TestRetriesAndObservesEveryAttempt(t *testing.T) {
	f := newFake()
	f.addENI("eni-aaa", "i-aaa", testCluster)
	f.addTable(testTable)
	left := map[string]int{"CreateRoute": 3, "DescribeRouteTables": 1}
	f.fail = func(action string) error {
		if left[action] == 0 {
			return nil
		}
		left[action]--
		if action == "DescribeRouteTables" {
			return apiErr(action, 503, "Unavailable", "try again")
		}
		return apiErr(action, 503, codeRequestLimit, "Request limit exceeded.")
	}
	p, obs := newFakeProvider(t, f, nil)
	if err := p.CreateRoutes(context.Background(), testTable, []cloud.Route{eniRoute("10.0.0.0/24", "eni-aaa")}); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]int{"CreateRoute/throttled": 3, "CreateRoute/ok": 1, "DescribeRouteTables/error": 1, "DescribeRouteTables/ok": 1} {
		if got := obs.get(key); got != want {
			t.Errorf("observed %s = %d, want %d", key, got, want)
		}
	}
	f.fail = func(action string) error {
		return apiErr(action, 403, codeUnauthorized, "You are not authorized to perform this operation.\nEncoded authorization failure message: xyz")
	}
	before := f.count("CreateRoute")
	err := p.CreateRoutes(context.Background(), testTable, []cloud.Route{eniRoute("10.0.1.0/24", "eni-aaa"), eniRoute("10.0.2.0/24", "eni-aaa")})
	if err == nil || !strings.Contains(err.Error(), "CreateRoute: UnauthorizedOperation (HTTP 403): You are not authorized") || strings.Contains(err.Error(), "\n") {
		t.Errorf("err = %q", err)
	}
	if n := f.count("CreateRoute") - before; n != 1 {
		t.Errorf("CreateRoute was sent %d times after a denial, want 1: a denial holds for the whole batch", n)
	}
}

func TestMutatingCallsWaitForTokensAndReadsDoNot(t *testing.T) {
	f := newFake()
	f.addENI("eni-aaa", "i-aaa", testCluster)
	f.addTable(testTable)
	// One token, then one per 1000 s: the second write cannot get one
	// within the deadline, while reads are not metered at all.
	p, _ := newFakeProvider(t, f, func(o *Options) { o.MutatingRate, o.MutatingBurst = 0.001, 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := p.CreateRoutes(ctx, testTable, []cloud.Route{eniRoute("10.0.0.0/24", "eni-aaa"), eniRoute("10.0.1.0/24", "eni-aaa")})
	if err == nil || !strings.Contains(err.Error(), "wait for the mutating-call budget") {
		t.Errorf("err = %v", err)
	}
	if n := f.count("CreateRoute"); n != 1 {
		t.Errorf("CreateRoute calls = %d, want 1 (one token)", n)
	}
	for range 5 {
		if _, err := p.Routes(ctx, testTable); err != nil {
			t.Fatalf("reads must not wait for write tokens: %v", err)
		}
	}
}

func TestRoutesWithManyENIsListsTheClusterTagOnce(t *testing.T) {
	f := newFake()
	var routes []types.Route
	for i := range 150 {
		eni := fmt.Sprintf("eni-%04d", i)
		cluster := testCluster
		if i%10 == 0 {
			cluster = "" // a host that never prepared: not the cluster's
		}
		f.addENI(eni, fmt.Sprintf("i-%04d", i), cluster)
		routes = append(routes, created(fmt.Sprintf("10.%d.%d.0/24", i/200, i%200), eni))
	}
	f.addENI("eni-other", "i-other", "other")
	f.addTable(testTable, routes...)
	p, _ := newFakeProvider(t, f, nil)
	if got := owned(t, p); len(got) != 135 {
		t.Errorf("owned = %d routes, want 135", len(got))
	}
	if n := f.count("DescribeNetworkInterfaces"); n != 1 {
		t.Errorf("DescribeNetworkInterfaces calls = %d, want 1 listing of the cluster's ENIs instead of 2 by ID", n)
	}
}
