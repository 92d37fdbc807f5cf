package aliyun

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/cloud/sim"
)

// These tests run the real SDK against the simulator on loopback. No
// endpoint, metadata or credential source outside the test is reachable:
// every URL is the httptest server's.

const testCluster = "lab"

type fixture struct {
	sim *sim.Server
	url string
}

func newFixture(t *testing.T, edit func(*sim.Topology), opts ...sim.Option) *fixture {
	t.Helper()
	topo := sim.DefaultTopology()
	if edit != nil {
		edit(&topo)
	}
	s, err := sim.New(topo, append([]sim.Option{sim.WithPendingDelay(30 * time.Millisecond)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() { srv.Close(); _ = s.Close() })
	return &fixture{sim: s, url: srv.URL}
}

// provider returns a provider for instance, with simulator-only static
// credentials in the environment.
func (f *fixture) provider(t *testing.T, instance string) *Provider {
	t.Helper()
	t.Setenv(envAccessKeyID, "LTAI-test")
	t.Setenv(envAccessKeySecret, "test-secret")
	p, err := f.newProvider(t, instance)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (f *fixture) newProvider(t *testing.T, instance string) (*Provider, error) {
	return New(context.Background(), Options{
		Settings: cloud.Settings{
			Endpoint:         f.url,
			MetadataEndpoint: f.url + "/sim/v1/instances/" + instance,
			Cluster:          testCluster,
			RetryTimeout:     20 * time.Second,
		},
		ChangeTimeout: 10 * time.Second,
	})
}

func route(dst, instance string) cloud.Route {
	return cloud.Route{Destination: netip.MustParsePrefix(dst), Target: cloud.Target{Kind: cloud.TargetInstance, ID: instance}}
}

func ownedRoutes(t *testing.T, p *Provider, table string) map[string]cloud.Route {
	t.Helper()
	rs, err := p.Routes(context.Background(), table)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]cloud.Route{}
	for _, r := range rs {
		if r.OwnedBy(testCluster) {
			out[r.Destination.String()] = r
		}
	}
	return out
}

func TestIdentityAndNetwork(t *testing.T) {
	f := newFixture(t, nil)
	p := f.provider(t, "i-bbb")
	self, _ := p.Self(context.Background())
	want := cloud.Instance{ID: "i-bbb", Region: "cn-zhangjiakou", VPCID: "vpc-lab",
		PrivateIP: netip.MustParseAddr("192.168.1.197"), Target: cloud.Target{Kind: "Instance", ID: "i-bbb"}}
	if self != want {
		t.Errorf("Self = %+v, want %+v", self, want)
	}
	n, err := p.Network(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(n.CIDRs, n.SubnetCIDRs, n.RouteTables) != "[192.168.0.0/16] [192.168.1.0/24] [vtb-lab]" {
		t.Errorf("Network = %+v", n)
	}
}

func TestIdentityOverridesSkipMetadata(t *testing.T) {
	t.Setenv(envAccessKeyID, "LTAI-test")
	t.Setenv(envAccessKeySecret, "test-secret")
	f := newFixture(t, nil)
	p, err := New(context.Background(), Options{
		Settings: cloud.Settings{
			Endpoint:         f.url,
			MetadataEndpoint: "http://127.0.0.1:1", // closed: must not be needed
			Region:           "cn-zhangjiakou",
			InstanceID:       "i-aaa",
			VPCID:            "vpc-lab",
			PrivateIP:        netip.MustParseAddr("192.168.1.196"),
			Cluster:          testCluster,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if self, _ := p.Self(context.Background()); self.ID != "i-aaa" {
		t.Errorf("Self = %+v", self)
	}
}

func TestCreateAndDelete(t *testing.T) {
	f := newFixture(t, nil)
	p := f.provider(t, "i-aaa")
	ctx := context.Background()
	if err := p.CreateRoutes(ctx, "vtb-lab", []cloud.Route{route("10.0.0.0/24", "i-aaa")}); err != nil {
		t.Fatal(err)
	}
	got := ownedRoutes(t, p, "vtb-lab")
	r, ok := got["10.0.0.0/24"]
	if !ok || r.Status != cloud.StatusAvailable || r.Target.ID != "i-aaa" || r.Name != "vpcroute-lab" ||
		r.Description != "managed by vpcroute; cluster=lab; instance=i-aaa" {
		t.Fatalf("owned routes = %+v", got)
	}
	// Created again (another run got there first): success, no new entry.
	if err := p.CreateRoutes(ctx, "vtb-lab", []cloud.Route{route("10.0.0.0/24", "i-aaa")}); err != nil {
		t.Errorf("duplicate create pointing at us must succeed: %v", err)
	}
	if n := f.sim.Stats().Count("CreateRouteEntry", "InvalidCIDRBlock.Duplicate"); n != 1 {
		t.Errorf("duplicate answers = %d, want 1", n)
	}
	if err := p.DeleteRoutes(ctx, "vtb-lab", []cloud.Route{route("10.0.0.0/24", "i-aaa")}); err != nil {
		t.Fatal(err)
	}
	if got := ownedRoutes(t, p, "vtb-lab"); len(got) != 0 {
		t.Errorf("after delete: %+v", got)
	}
	// Deleting what is gone is success and sends nothing.
	before := f.sim.Stats().Writes
	if err := p.DeleteRoutes(ctx, "vtb-lab", []cloud.Route{route("10.0.0.0/24", "i-aaa")}); err != nil {
		t.Errorf("delete of a missing entry: %v", err)
	}
	if w := f.sim.Stats().Writes - before; w != 0 {
		t.Errorf("delete of a missing entry made %d writes", w)
	}
}

func TestDuplicateHeldByAnotherNextHop(t *testing.T) {
	f := newFixture(t, func(topo *sim.Topology) {
		topo.RouteTables[0].Routes = append(topo.RouteTables[0].Routes,
			sim.RouteSpec{Destination: "10.0.0.0/24", NextHopType: "Instance", NextHopID: "i-bbb", Name: "by-hand"})
	})
	p := f.provider(t, "i-aaa")
	err := p.CreateRoutes(context.Background(), "vtb-lab", []cloud.Route{route("10.0.0.0/24", "i-aaa")})
	if err == nil || !strings.Contains(err.Error(), "held by Instance/i-bbb (entry by-hand, not vpcroute's)") {
		t.Errorf("err = %v", err)
	}
}

// TestWritesNeedACluster: the cluster is given once, at construction; a
// provider built without one marks nothing and deletes nothing.
func TestWritesNeedACluster(t *testing.T) {
	f := newFixture(t, nil)
	t.Setenv(envAccessKeyID, "LTAI-test")
	t.Setenv(envAccessKeySecret, "test-secret")
	p, err := New(context.Background(), Options{Settings: cloud.Settings{Endpoint: f.url, MetadataEndpoint: f.url + "/sim/v1/instances/i-aaa", RetryTimeout: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	rs := []cloud.Route{route("10.0.0.0/24", "i-aaa")}
	for verb, write := range map[string]func(context.Context, string, []cloud.Route) error{"create": p.CreateRoutes, "delete": p.DeleteRoutes} {
		err := write(context.Background(), "vtb-lab", rs)
		if want := "cannot " + verb + " routes: the aliyun provider was set up without cluster-name"; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s = %v, want %q", verb, err, want)
		}
	}
	if w := f.sim.Stats().Writes; w != 0 {
		t.Errorf("%d writes without a cluster", w)
	}
	if _, err := New(context.Background(), Options{Settings: cloud.Settings{Cluster: "Bad_Name"}}); err == nil || !strings.Contains(err.Error(), `cluster-name "Bad_Name" is invalid`) {
		t.Errorf("New with a bad cluster = %v", err)
	}
}

func TestDeleteRechecksOwnership(t *testing.T) {
	f := newFixture(t, func(topo *sim.Topology) {
		topo.RouteTables[0].Routes = append(topo.RouteTables[0].Routes,
			sim.RouteSpec{Destination: "10.0.0.0/24", NextHopType: "Instance", NextHopID: "i-aaa", Name: "by-hand"})
	})
	p := f.provider(t, "i-aaa")
	err := p.DeleteRoutes(context.Background(), "vtb-lab", []cloud.Route{route("10.0.0.0/24", "i-aaa")})
	if err == nil || !strings.Contains(err.Error(), "refusing to delete") {
		t.Errorf("err = %v", err)
	}
	if f.sim.Stats().Writes != 0 {
		t.Errorf("a write was sent for an entry vpcroute does not own: %+v", f.sim.Stats())
	}
}

func TestRetriesTransientErrors(t *testing.T) {
	tests := []sim.FaultRule{
		{Action: "CreateRouteEntry", Code: "TaskConflict", Count: 2},
		{Action: "CreateRouteEntry", Code: "OperationConflict", Count: 1},
		{Action: "CreateRouteEntry", Code: "IncorrectVpcStatus", Count: 1},
		{Action: "CreateRouteEntry", Code: "OperationFailed.DistibuteLock", Count: 1},
		{Action: "CreateRouteEntry", Code: "Throttling.User", Count: 2},
		{Action: "CreateRouteEntry", Code: "ServiceUnavailable", HTTPStatus: 503, Count: 1},
		{Action: "CreateRouteEntry", Code: "InternalError", HTTPStatus: 500, Count: 1},
		{Action: "CreateRouteEntry", Close: true, Count: 1},
		{Action: "DescribeRouteEntryList", Code: "Throttling", Count: 1},
	}
	for _, fault := range tests {
		name := fault.Code
		if fault.Close {
			name = "transport"
		}
		t.Run(fault.Action+"/"+name, func(t *testing.T) {
			f := newFixture(t, nil)
			p := f.provider(t, "i-aaa")
			if err := f.sim.AddFault(fault); err != nil {
				t.Fatal(err)
			}
			if err := p.CreateRoutes(context.Background(), "vtb-lab", []cloud.Route{route("10.0.0.0/24", "i-aaa")}); err != nil {
				t.Fatalf("CreateRoutes: %v", err)
			}
			if _, ok := ownedRoutes(t, p, "vtb-lab")["10.0.0.0/24"]; !ok {
				t.Error("route missing after retries")
			}
			st := f.sim.Stats()
			if st.Count("CreateRouteEntry", "ok") != 1 {
				t.Errorf("successful creates = %d, want 1: %+v", st.Count("CreateRouteEntry", "ok"), st.Actions)
			}
		})
	}
}

func TestFinalErrorsAreNotRetried(t *testing.T) {
	f := newFixture(t, nil)
	p := f.provider(t, "i-aaa")
	if err := f.sim.AddFault(sim.FaultRule{Action: "CreateRouteEntry", Code: "Forbidden.RAM", HTTPStatus: 403}); err != nil {
		t.Fatal(err)
	}
	err := p.CreateRoutes(context.Background(), "vtb-lab", []cloud.Route{route("10.0.0.0/24", "i-aaa")})
	if err == nil || !strings.Contains(err.Error(), "Forbidden.RAM (HTTP 403)") || strings.Contains(err.Error(), "\n") {
		t.Errorf("err = %q", err)
	}
	if n := f.sim.Stats().Calls("CreateRouteEntry"); n != 1 {
		t.Errorf("calls = %d, want 1 (no retry)", n)
	}
}

func TestBatchesAndPaging(t *testing.T) {
	f := newFixture(t, nil)
	p := f.provider(t, "i-aaa")
	var rs []cloud.Route
	for i := 0; i < 120; i++ {
		rs = append(rs, route(fmt.Sprintf("10.%d.%d.0/24", i/100, i%100), "i-aaa"))
	}
	ctx := context.Background()
	if err := p.CreateRoutes(ctx, "vtb-lab", rs); err != nil {
		t.Fatal(err)
	}
	st := f.sim.Stats()
	if n := st.Count("CreateRouteEntries", "ok"); n != 3 {
		t.Errorf("CreateRouteEntries calls = %d, want 3 (50+50+20)", n)
	}
	f.sim.ResetStats()
	if got := ownedRoutes(t, p, "vtb-lab"); len(got) != 120 {
		t.Errorf("owned = %d, want 120", len(got))
	}
	if n := f.sim.Stats().Calls("DescribeRouteEntryList"); n < 2 {
		t.Errorf("listing 120+ entries took %d pages, want >= 2", n)
	}
	if err := p.DeleteRoutes(ctx, "vtb-lab", rs); err != nil {
		t.Fatal(err)
	}
	if n := f.sim.Stats().Count("DeleteRouteEntries", "ok"); n != 3 {
		t.Errorf("DeleteRouteEntries calls = %d, want 3", n)
	}
	if got := ownedRoutes(t, p, "vtb-lab"); len(got) != 0 {
		t.Errorf("owned after delete = %d", len(got))
	}
}

func TestConcurrentHostsSerializeInOneVPC(t *testing.T) {
	f := newFixture(t, nil, sim.WithPendingDelay(150*time.Millisecond))
	pa, pb := f.provider(t, "i-aaa"), f.provider(t, "i-bbb")
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, c := range []struct {
		p   *Provider
		dst string
		id  string
	}{{pa, "10.0.0.0/24", "i-aaa"}, {pb, "10.1.0.0/24", "i-bbb"}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.p.CreateRoutes(context.Background(), "vtb-lab", []cloud.Route{route(c.dst, c.id)})
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if got := ownedRoutes(t, pa, "vtb-lab"); len(got) != 2 {
		t.Errorf("owned = %+v", got)
	}
}

func TestCredentials(t *testing.T) {
	f := newFixture(t, func(topo *sim.Topology) {
		topo.Instances = append(topo.Instances, sim.InstanceSpec{ID: "i-norole", PrivateIP: "192.168.1.198", VSwitch: "vsw-lab"})
	})
	t.Run("RAM role from metadata", func(t *testing.T) {
		t.Setenv(envAccessKeyID, "")
		t.Setenv(envAccessKeySecret, "")
		p, err := f.newProvider(t, "i-aaa")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Network(context.Background()); err != nil {
			t.Errorf("calls signed with the role's STS credentials failed: %v", err)
		}
	})
	t.Run("no credentials at all", func(t *testing.T) {
		t.Setenv(envAccessKeyID, "")
		t.Setenv(envAccessKeySecret, "")
		_, err := f.newProvider(t, "i-norole")
		if err == nil || !strings.HasPrefix(err.Error(), "no Alibaba Cloud credentials") || strings.Contains(err.Error(), "\n") {
			t.Errorf("err = %q", err)
		}
	})
	t.Run("half a key", func(t *testing.T) {
		t.Setenv(envAccessKeyID, "LTAI-test")
		t.Setenv(envAccessKeySecret, "")
		_, err := f.newProvider(t, "i-aaa")
		if err == nil || !strings.Contains(err.Error(), "must be set together") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("wrong key is not retried and not printed", func(t *testing.T) {
		t.Setenv(envAccessKeyID, "LTAI-wrong")
		t.Setenv(envAccessKeySecret, "s3cr3t-value")
		p, err := f.newProvider(t, "i-aaa")
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.Network(context.Background())
		if err == nil || !strings.Contains(err.Error(), "InvalidAccessKeyId.NotFound") || strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		o    Options
		want string
	}{
		{Options{Settings: cloud.Settings{Endpoint: "ftp://x"}}, `endpoint "ftp://x" is invalid: scheme must be http or https`},
		{Options{Settings: cloud.Settings{Endpoint: "http://127.0.0.1:80/path"}}, `endpoint "http://127.0.0.1:80/path" is invalid`},
		{Options{Settings: cloud.Settings{MetadataEndpoint: "metadata.invalid"}}, `metadata-endpoint "metadata.invalid" is invalid`},
		{Options{Settings: cloud.Settings{RouteTables: []string{"rtb-1"}}}, `route-table "rtb-1" is invalid`},
		{Options{Settings: cloud.Settings{InstanceID: "bbb"}}, `instance-id "bbb" is invalid`},
		// The checks every provider shares (cloud.Settings.Validate).
		{Options{Settings: cloud.Settings{RetryTimeout: -time.Second}}, `cloud-retry-timeout -1s is invalid`},
		{Options{Settings: cloud.Settings{PrivateIP: netip.MustParseAddr("fd00::1")}}, `private-ip "fd00::1" is invalid`},
		{Options{Settings: cloud.Settings{ClusterCIDR: netip.MustParsePrefix("fd00::/8")}}, `cluster-cidr "fd00::/8" is invalid`},
		{Options{Settings: cloud.Settings{MetadataEndpoint: "http://127.0.0.1:1/?a=b"}}, `metadata-endpoint "http://127.0.0.1:1/?a=b" is invalid`},
		{Options{Settings: cloud.Settings{VPCID: "vpc_1"}}, `vpc-id "vpc_1" is invalid: expected a VPC ID (vpc-...)`},
	}
	for _, tt := range tests {
		if err := tt.o.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Validate(%+v) = %v, want %q", tt.o, err, tt.want)
		}
	}
	for _, ep := range []string{"", "http://127.0.0.1:8080", "https://vpc.example.test", "vpc.example.test"} {
		if err := (Options{Settings: cloud.Settings{Endpoint: ep}}).Validate(); err != nil {
			t.Errorf("endpoint %q: %v", ep, err)
		}
	}
	if s, d, _ := parseEndpoint("vpc.example.test"); s != "HTTPS" || d != "vpc.example.test" {
		t.Errorf("no scheme must mean HTTPS, got %s %s", s, d)
	}
}

func TestBatchWithOneEntryHeldElsewhere(t *testing.T) {
	f := newFixture(t, func(topo *sim.Topology) {
		topo.RouteTables[0].Routes = append(topo.RouteTables[0].Routes,
			sim.RouteSpec{Destination: "10.0.1.0/24", NextHopType: "VpnGateway", NextHopID: "vpn-1", Name: "vpn"})
	})
	p := f.provider(t, "i-aaa")
	rs := []cloud.Route{route("10.0.0.0/24", "i-aaa"), route("10.0.1.0/24", "i-aaa"), route("10.0.2.0/24", "i-aaa")}
	err := p.CreateRoutes(context.Background(), "vtb-lab", rs)
	if err == nil || !strings.Contains(err.Error(), "10.0.1.0/24") || !strings.Contains(err.Error(), "VpnGateway/vpn-1") {
		t.Errorf("err = %v", err)
	}
	got := ownedRoutes(t, p, "vtb-lab")
	if _, ok := got["10.0.0.0/24"]; !ok || len(got) != 2 {
		t.Errorf("owned = %v, want the two free destinations", got)
	}
}
