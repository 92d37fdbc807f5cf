package sim

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func TestEC2TerminationMakesBlackholes(t *testing.T) {
	ts := startAWS(t)
	c := ec2Client(ts)
	createENIRoute(t, c, "10.0.0.0/24", eniA)
	if _, err := c.CreateRoute(bg, &ec2.CreateRouteInput{RouteTableId: aws.String(awsTable),
		DestinationCidrBlock: aws.String("10.0.1.0/24"), InstanceId: aws.String(instA)}); err != nil {
		t.Fatal(err)
	}
	createENIRoute(t, c, "10.1.0.0/24", eniB)

	var resp map[string]string
	if code := adminDo(t, ts, "DELETE", "/sim/v1/instances/"+instA, "", &resp); code != 200 {
		t.Fatalf("terminate: %d %v", code, resp)
	}
	out, err := c.DescribeInstances(bg, &ec2.DescribeInstancesInput{InstanceIds: []string{instA}})
	if err != nil {
		t.Fatal(err)
	}
	in := out.Reservations[0].Instances[0]
	if in.State.Name != types.InstanceStateNameTerminated || aws.ToInt32(in.State.Code) != 48 || len(in.NetworkInterfaces) != 0 || in.PrivateIpAddress != nil {
		t.Errorf("terminated instance = %+v", in)
	}
	// DeleteOnTermination: the ENI is gone.
	_, err = c.DescribeNetworkInterfaces(bg, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{eniA}})
	wantAPIError(t, err, 400, CodeENINotFound)

	// Its routes stay, blackhole, still naming the ENI and the instance.
	rt := routeTable(t, c, awsTable)
	for _, dest := range []string{"10.0.0.0/24", "10.0.1.0/24"} {
		r := routeTo(rt, dest)
		if r == nil || r.State != types.RouteStateBlackhole || aws.ToString(r.NetworkInterfaceId) != eniA || aws.ToString(r.InstanceId) != instA {
			t.Errorf("route %s after termination = %+v", dest, r)
		}
	}
	if r := routeTo(rt, "10.1.0.0/24"); r.State != types.RouteStateActive {
		t.Errorf("another instance's route = %+v", r)
	}
	blackholes, err := c.DescribeRouteTables(bg, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{{Name: aws.String("route.state"), Values: []string{"blackhole"}}}})
	if err != nil || len(blackholes.RouteTables) != 1 {
		t.Errorf("route.state=blackhole filter: %+v, %v", blackholes, err)
	}
	var routes struct {
		Tables []Table `json:"tables"`
	}
	adminDo(t, ts, "GET", "/sim/v1/routes", "", &routes)
	for _, e := range routes.Tables[0].Entries {
		if e.Destination == "10.0.0.0/24" && (e.Status != RouteBlackhole || e.NetworkInterfaceID != eniA || e.InstanceID != instA) {
			t.Errorf("admin view of the blackhole = %+v", e)
		}
	}

	// New routes to the terminated instance are refused; cleaning up works.
	_, err = c.CreateRoute(bg, &ec2.CreateRouteInput{RouteTableId: aws.String(awsTable),
		DestinationCidrBlock: aws.String("10.0.2.0/24"), InstanceId: aws.String(instA)})
	wantAPIError(t, err, 400, CodeEC2InstanceNotFound)
	if _, err := c.DeleteRoute(bg, &ec2.DeleteRouteInput{RouteTableId: aws.String(awsTable), DestinationCidrBlock: aws.String("10.0.0.0/24")}); err != nil {
		t.Errorf("delete a blackhole route: %v", err)
	}

	// Deleting a terminated instance again forgets it.
	if err := ts.RemoveInstance(instA, false); err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeInstances(bg, &ec2.DescribeInstancesInput{InstanceIds: []string{instA}})
	wantAPIError(t, err, 400, CodeEC2InstanceNotFound)
}

func TestEC2StopStartAndSecondaryENIs(t *testing.T) {
	ts := NewTestServer(t, multiENITopology())
	c := ec2Client(ts)
	createENIRoute(t, c, "10.1.0.0/24", eniB)
	state := func(dest string) types.RouteState { return routeTo(routeTable(t, c, awsTable), dest).State }

	if code := adminDo(t, ts, "POST", "/sim/v1/instances/"+instB, `{"state":"stopped"}`, nil); code != 200 {
		t.Fatalf("stop: %d", code)
	}
	if got := state("10.1.0.0/24"); got != types.RouteStateBlackhole {
		t.Errorf("route to a stopped instance: %s", got)
	}
	out, err := c.DescribeNetworkInterfaces(bg, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{eniB}})
	if err != nil || len(out.NetworkInterfaces) != 1 {
		t.Errorf("a stopped instance keeps its ENI: %v", err)
	}
	if err := ts.SetInstanceState(instB, EC2Running); err != nil {
		t.Fatal(err)
	}
	if got := state("10.1.0.0/24"); got != types.RouteStateActive {
		t.Errorf("route after start: %s", got)
	}
	if code := adminDo(t, ts, "POST", "/sim/v1/instances/"+instB, `{"state":"asleep"}`, nil); code != 400 {
		t.Errorf("unknown state: %d", code)
	}
	if code := adminDo(t, ts, "POST", "/sim/v1/instances/i-0000000000000dead", `{"state":"stopped"}`, nil); code != 404 {
		t.Errorf("unknown instance: %d", code)
	}

	// A secondary ENI without DeleteOnTermination survives, detached; its
	// route is a blackhole naming only the ENI, as EC2 shows a route to a
	// detached interface.
	spec := ts.Instances()[2]
	no := false
	spec.NetworkInterfaces[0].DeleteOnTermination = &no
	if err := ts.AddInstance(spec); err != nil {
		t.Fatal(err)
	}
	createENIRoute(t, c, "10.2.0.0/24", "eni-0cccccccccccccccd")
	if err := ts.SetInstanceState(instC, EC2Terminated); err != nil {
		t.Fatal(err)
	}
	out, err = c.DescribeNetworkInterfaces(bg, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{"eni-0cccccccccccccccd"}})
	if err != nil || out.NetworkInterfaces[0].Attachment != nil || out.NetworkInterfaces[0].Status != types.NetworkInterfaceStatusAvailable {
		t.Fatalf("kept ENI: %+v, %v", out, err)
	}
	r := routeTo(routeTable(t, c, awsTable), "10.2.0.0/24")
	if r.State != types.RouteStateBlackhole || r.InstanceId != nil || aws.ToString(r.NetworkInterfaceId) != "eni-0cccccccccccccccd" {
		t.Errorf("route to the detached ENI = %+v", r)
	}
	if err := ts.SetInstanceState(instC, EC2Running); err == nil {
		t.Error("a terminated instance came back to life")
	}
}

func TestEC2AdminRoutesAndInstances(t *testing.T) {
	ts := startAWS(t)
	c := ec2Client(ts)
	var e Entry
	body := `{"table":"` + awsTable + `","destination":"10.5.0.0/16","nextHopType":"NatGateway","nextHopId":"nat-0123","status":"blackhole"}`
	if code := adminDo(t, ts, "POST", "/sim/v1/routes", body, &e); code != 200 || e.Status != RouteBlackhole || e.Origin != OriginCreateRoute {
		t.Fatalf("put NAT route: %d %+v", code, e)
	}
	if r := routeTo(routeTable(t, c, awsTable), "10.5.0.0/16"); r == nil || aws.ToString(r.NatGatewayId) != "nat-0123" || r.State != types.RouteStateBlackhole {
		t.Errorf("NAT route = %+v", r)
	}
	body = `{"table":"` + awsTable + `","destination":"10.6.0.0/16","nextHopType":"Instance","nextHopId":"i-0000000000000gone"}`
	if code := adminDo(t, ts, "POST", "/sim/v1/routes", body, &e); code != 200 || e.Status != RouteBlackhole || e.InstanceID != "i-0000000000000gone" {
		t.Fatalf("put route to a missing instance: %d %+v", code, e)
	}
	for _, bad := range []string{
		`{"table":"` + awsTable + `","destination":"10.7.0.0/16","nextHopType":"Instance","nextHopId":"i-1","name":"x"}`,
		`{"table":"` + awsTable + `","destination":"10.7.0.0/16","nextHopType":"NetworkInterface","nextHopId":"eni-1","status":"blackhole"}`,
		`{"table":"` + awsTable + `","destination":"10.7.0.0/16","nextHopType":"Teleport","nextHopId":"x"}`,
		`{"table":"` + awsTable + `","destination":"192.168.0.0/16","nextHopType":"Gateway","nextHopId":"igw-1"}`,
	} {
		if code := adminDo(t, ts, "POST", "/sim/v1/routes", bad, nil); code != 400 {
			t.Errorf("%s: %d, want 400", bad, code)
		}
	}
	if code := adminDo(t, ts, "DELETE", "/sim/v1/routes?table="+awsTable+"&destination=pl-6da54004", "", nil); code != 200 {
		t.Errorf("delete prefix list route: %d", code)
	}
	if code := adminDo(t, ts, "DELETE", "/sim/v1/routes?table="+awsTable+"&destination=10.5.0.0/16", "", nil); code != 200 {
		t.Errorf("delete NAT route: %d", code)
	}
	if n := len(routeTable(t, c, awsTable).Routes); n != 5 {
		t.Errorf("routes after admin changes = %d", n)
	}

	// A new instance through the admin API gets its ENI and can be routed.
	if code := adminDo(t, ts, "POST", "/sim/v1/instances", `{"id":"i-0dddddddddddddddd","privateIp":"192.168.1.200","name":"hostD"}`, nil); code != 200 {
		t.Fatalf("add instance: %d", code)
	}
	var list []InstanceSpec
	adminDo(t, ts, "GET", "/sim/v1/instances", "", &list)
	if len(list) != 3 || list[2].ENI == "" || list[2].Subnet != awsSubnet || list[2].MAC == "" || list[2].SourceDestCheck == nil || !*list[2].SourceDestCheck {
		t.Fatalf("instances = %+v", list)
	}
	createENIRoute(t, c, "10.4.0.0/24", list[2].ENI)
	if code := adminDo(t, ts, "POST", "/sim/v1/instances", `{"id":"i-0eeeeeeeeeeeeeeee","privateIp":"192.168.1.200"}`, nil); code != 400 {
		t.Errorf("duplicate address: %d", code)
	}
	if code := adminDo(t, ts, "POST", "/sim/v1/instances", `{"id":"bad","privateIp":"192.168.1.201"}`, nil); code != 400 {
		t.Errorf("ID without i-: %d", code)
	}

	// Settle is a no-op: nothing is ever in flight on EC2.
	adminDo(t, ts, "POST", "/sim/v1/settle", "", nil)
	if r := routeTo(routeTable(t, c, awsTable), "10.6.0.0/16"); r.State != types.RouteStateBlackhole {
		t.Errorf("settle changed a blackhole: %+v", r)
	}
}
