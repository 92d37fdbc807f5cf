package sim

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

func TestEC2DataplaneFollowsRouteStates(t *testing.T) {
	name, h := routerNetns(t)
	ts := startAWS(t, WithDataplane(name))
	c := ec2Client(ts)
	ours := fmt.Sprint(int(RouteProtocol))

	createENIRoute(t, c, "10.0.0.0/24", eniA)
	if _, err := c.CreateRoute(bg, &ec2.CreateRouteInput{RouteTableId: aws.String(awsTable),
		DestinationCidrBlock: aws.String("10.1.0.0/24"), InstanceId: aws.String(instB)}); err != nil {
		t.Fatal(err)
	}
	// Active at once: no Pending period on EC2.
	if got := kernelRoute(t, h, "10.0.0.0/24"); got != "192.168.1.196 "+ours {
		t.Fatalf("ENI route: kernel route %q, want via 192.168.1.196", got)
	}
	if got := kernelRoute(t, h, "10.1.0.0/24"); got != "192.168.1.197 "+ours {
		t.Fatalf("instance route: kernel route %q, want via 192.168.1.197", got)
	}
	// Gateway, peering and endpoint routes are not programmed.
	for _, dest := range []string{"0.0.0.0/0", "172.16.0.0/16"} {
		if got := kernelRoute(t, h, dest); got != "" {
			t.Errorf("%s programmed: %s", dest, got)
		}
	}

	if _, err := c.ReplaceRoute(bg, &ec2.ReplaceRouteInput{RouteTableId: aws.String(awsTable),
		DestinationCidrBlock: aws.String("10.0.0.0/24"), NetworkInterfaceId: aws.String(eniB)}); err != nil {
		t.Fatal(err)
	}
	if got := kernelRoute(t, h, "10.0.0.0/24"); got != "192.168.1.197 "+ours {
		t.Errorf("replaced route: kernel route %q, want via 192.168.1.197", got)
	}

	// A blackhole forwards nothing: stopping B drops both its routes.
	if err := ts.SetInstanceState(instB, EC2Stopped); err != nil {
		t.Fatal(err)
	}
	for _, dest := range []string{"10.0.0.0/24", "10.1.0.0/24"} {
		if got := kernelRoute(t, h, dest); got != "" {
			t.Errorf("blackhole %s still in the kernel: %s", dest, got)
		}
	}
	if err := ts.SetInstanceState(instB, EC2Running); err != nil {
		t.Fatal(err)
	}
	if got := kernelRoute(t, h, "10.1.0.0/24"); got != "192.168.1.197 "+ours {
		t.Errorf("after start: kernel route %q", got)
	}
	if err := ts.RemoveInstance(instB, false); err != nil {
		t.Fatal(err)
	}
	if got := kernelRoute(t, h, "10.1.0.0/24"); got != "" {
		t.Errorf("route to a terminated instance still in the kernel: %s", got)
	}
	if _, err := c.DeleteRoute(bg, &ec2.DeleteRouteInput{RouteTableId: aws.String(awsTable), DestinationCidrBlock: aws.String("10.1.0.0/24")}); err != nil {
		t.Fatal(err)
	}
	createENIRoute(t, c, "10.2.0.0/24", eniA)
	if err := ts.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if got := kernelRoute(t, h, "10.2.0.0/24"); got != "" {
		t.Errorf("route kept after Close: %s", got)
	}
}

// BenchmarkEC2DescribeFullTable measures one DescribeRouteTables of a table
// at EC2's highest route limit (1000 routes) through the real SDK: what one
// resync of one table costs the simulator. EC2's buckets are off here.
func BenchmarkEC2DescribeFullTable(b *testing.B) {
	ts := NewTestServer(b, DefaultAWSTopology(), WithBehaviour(func(bh *Behaviour) {
		bh.Quota, bh.Throttle = 1000, ThrottleSpec{}
	}))
	for i := range 997 { // the three unowned routes make 1000
		if _, err := ts.PutRoute(PutRouteRequest{Table: awsTable, Destination: fmt.Sprintf("10.%d.%d.0/24", i/256, i%256),
			NextHopType: HopNetworkInterface, NextHopID: []string{eniA, eniB}[i%2]}); err != nil {
			b.Fatal(err)
		}
	}
	c := ec2Client(ts)
	b.ResetTimer()
	for range b.N {
		out, err := c.DescribeRouteTables(bg, &ec2.DescribeRouteTablesInput{RouteTableIds: []string{awsTable}})
		if err != nil {
			b.Fatal(err)
		}
		if n := len(out.RouteTables[0].Routes); n != 1002 {
			b.Fatalf("listed %d routes, want 1002 (two local)", n)
		}
	}
}
