package reconciler_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/cloud/sim"
	"github.com/vpcroute/vpcroute/reconciler"
)

// TestForeignRecordCostsNoCallPerPass runs the loop through the real
// Alibaba provider against the simulator, with two hosts registered: one
// in the VPC, one whose instance is in another VPC of the region. The
// foreign record is refused on every pass; the cloud is asked about it
// (ECS DescribeInstances: is it in this VPC, is it gone) on the first pass,
// and then not on every pass.
func TestForeignRecordCostsNoCallPerPass(t *testing.T) {
	describes := foreignRecordPasses(t, 6, 5*time.Second)
	// First pass: is each instance in this VPC (one call), is i-foreign
	// gone (one call). Then nothing.
	if describes[0] != 2 {
		t.Errorf("first pass: %d DescribeInstances, want 2", describes[0])
	}
	for i, n := range describes[1:] {
		if n != 0 {
			t.Errorf("pass %d: %d DescribeInstances, want 0", i+1, n)
		}
	}
}

// TestForeignRecordAtResyncPace: with passes a resync period (1 min) apart
// for half an hour, the foreign record is asked about less and less
// often: whether it is listed after 1, 2, 4, 8 and then every 10 minutes;
// whether it is gone every 10 minutes (the network refresh, when the
// honest host's target is verified again too).
func TestForeignRecordAtResyncPace(t *testing.T) {
	describes := foreignRecordPasses(t, 30, reconciler.DefaultResync)
	var at []string
	total := 0
	for i, n := range describes {
		total += n
		if n > 0 {
			at = append(at, fmt.Sprintf("%dm:%d", i, n))
		}
	}
	want := "0m:2 1m:1 2m:1 4m:1 8m:1 10m:2 16m:1 20m:2 26m:1"
	if got := strings.Join(at, " "); got != want {
		t.Errorf("DescribeInstances at (minute:calls) %s, want %s", got, want)
	}
	t.Logf("%d DescribeInstances in %d passes", total, len(describes))
}

// foreignRecordPasses runs passes, spaced by the loop's clock, over an
// honest host and a record of an instance in another VPC, and returns the
// DescribeInstances calls each pass made.
func foreignRecordPasses(t *testing.T, passes int, spacing time.Duration) []int {
	t.Helper()
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI-test")
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "test-secret")
	t.Setenv("ALIBABA_CLOUD_SECURITY_TOKEN", "")
	topo := benchTopologyWith(1, 0, 1)
	topo.VPCs = []sim.VPCSpec{*topo.VPC, {ID: "vpc-other", CIDR: "172.16.0.0/16"}}
	topo.VPC = nil
	topo.VSwitches[0].VPC, topo.RouteTables[0].VPC = benchVPC, benchVPC
	topo.VSwitches = append(topo.VSwitches, sim.VSwitchSpec{ID: "vsw-other", CIDR: "172.16.0.0/20", VPC: "vpc-other"})
	topo.Instances = append(topo.Instances, sim.InstanceSpec{ID: "i-foreign", PrivateIP: "172.16.0.9", VSwitch: "vsw-other"})
	srv, err := sim.New(topo)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { hs.Close(); _ = srv.Close() })
	p, err := newBenchProvider(hs.URL)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	loop, err := reconciler.NewLoop(reconciler.LoopConfig{Cluster: benchCluster, ClusterCIDR: benchClusterCIDR,
		Provider: p, Identity: benchInstance(1), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	hosts := benchHosts(1)
	hosts = append(hosts, reconciler.Host{Instance: "i-foreign", Order: 2,
		Target:  cloud.Target{Kind: cloud.TargetInstance, ID: "i-foreign"},
		Subnets: []reconciler.Claim{{Subnet: benchSubnet(66)}}})

	var describes []int
	for i := range passes {
		before := srv.Stats().Calls("DescribeInstances")
		for j := range hosts {
			hosts[j].Revision++ // every host heartbeats between passes
		}
		rep := loop.Pass(context.Background(), hosts, "resync")
		describes = append(describes, srv.Stats().Calls("DescribeInstances")-before)
		if len(rep.RefusedHosts) != 1 || rep.RefusedHosts[0].Instance != "i-foreign" || rep.Result != reconciler.ResultDegraded {
			t.Fatalf("pass %d: result %s %s, refused %+v; want i-foreign refused", i, rep.Result, rep.Error, rep.RefusedHosts)
		}
		now = now.Add(spacing)
	}
	t.Logf("DescribeInstances per pass with one foreign record, passes %s apart: %v", spacing, describes)
	for _, tb := range srv.Routes() {
		for _, e := range tb.Entries {
			if e.NextHopID == "i-foreign" {
				t.Errorf("the refused record got a route: %+v", e)
			}
		}
	}
	return describes
}
