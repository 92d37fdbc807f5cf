package aws

import (
	"context"
	"fmt"
	"testing"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/cloud/sim"
)

// BenchmarkSimRoutes lists a table holding one owned route per host, N
// hosts, through the SDK and the simulator: the cost of one reconcile's
// read of a table, in time and in EC2 read calls (which share the
// account's Describe bucket of 100 refilling 20/s).
func BenchmarkSimRoutes(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			topo := sim.DefaultAWSTopology()
			// Room for 1000 hosts with two addresses each.
			for i := range topo.Subnets {
				topo.Subnets[i].CIDR = "192.168.0.0/18"
			}
			for i := range topo.VSwitches {
				topo.VSwitches[i].CIDR = "192.168.0.0/18"
			}
			ts := sim.NewTestServer(b, topo, sim.WithBehaviour(func(bh *sim.Behaviour) {
				bh.Quota = n + 10
				bh.Throttle = sim.ThrottleSpec{}
			}))
			for i := range n {
				eni := fmt.Sprintf("eni-1%016x", i)
				in := sim.InstanceSpec{ID: fmt.Sprintf("i-1%016x", i), PrivateIP: fmt.Sprintf("192.168.%d.%d", 2+i/250, 1+i%250),
					NetworkInterfaces: []sim.ENISpec{{ID: eni, PrivateIP: fmt.Sprintf("192.168.%d.%d", 10+i/250, 1+i%250),
						Tags: map[string]string{TagKey: testCluster}}}}
				if err := ts.AddInstance(in); err != nil {
					b.Fatal(err)
				}
				if _, err := ts.PutRoute(sim.PutRouteRequest{Table: simTable, Destination: fmt.Sprintf("10.%d.%d.0/24", i/250, i%250),
					NextHopType: "NetworkInterface", NextHopID: eni}); err != nil {
					b.Fatal(err)
				}
			}
			pinEnv(b, true)
			p, err := New(context.Background(), simOptions(ts, simInstA))
			if err != nil {
				b.Fatal(err)
			}
			ts.ResetStats()
			b.ResetTimer()
			for range b.N {
				rs, err := p.Routes(context.Background(), simTable)
				if err != nil {
					b.Fatalf("b.N=%d: %v", b.N, err)
				}
				if owned := countOwned(rs); owned != n {
					b.Fatalf("owned = %d, want %d", owned, n)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(ts.Stats().Reads)/float64(b.N), "reads/op")
		})
	}
}

func countOwned(rs []cloud.Route) int {
	n := 0
	for _, r := range rs {
		if r.OwnedBy(testCluster) {
			n++
		}
	}
	return n
}
