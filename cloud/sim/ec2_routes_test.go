package sim

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func TestEC2CreateRouteToENI(t *testing.T) {
	ts := startAWS(t)
	c := ec2Client(ts)
	out, err := c.CreateRoute(bg, &ec2.CreateRouteInput{RouteTableId: aws.String(awsTable),
		DestinationCidrBlock: aws.String("10.0.0.0/24"), NetworkInterfaceId: aws.String(eniA)})
	if err != nil {
		t.Fatal(err)
	}
	if !aws.ToBool(out.Return) {
		t.Error("CreateRoute returned false")
	}
	// Synchronous: active at once, with the ENI's instance and owner.
	r := routeTo(routeTable(t, c, awsTable), "10.0.0.0/24")
	if r == nil || r.State != types.RouteStateActive || r.Origin != types.RouteOriginCreateRoute ||
		aws.ToString(r.NetworkInterfaceId) != eniA || aws.ToString(r.InstanceId) != instA || aws.ToString(r.InstanceOwnerId) != DefaultAccountID {
		t.Fatalf("route = %+v", r)
	}
	var e *Entry
	for _, tb := range ts.Routes() {
		for i := range tb.Entries {
			if tb.Entries[i].Destination == "10.0.0.0/24" {
				e = &tb.Entries[i]
			}
		}
	}
	if e == nil || e.Status != RouteActive || e.NextHopType != HopNetworkInterface || e.NextHopID != eniA ||
		e.InstanceID != instA || e.NetworkInterfaceID != eniA || e.Origin != OriginCreateRoute {
		t.Errorf("admin view = %+v", e)
	}

	// Same destination again, whatever the target: RouteAlreadyExists.
	for _, target := range []string{eniA, eniB} {
		_, err = c.CreateRoute(bg, &ec2.CreateRouteInput{RouteTableId: aws.String(awsTable),
			DestinationCidrBlock: aws.String("10.0.0.0/24"), NetworkInterfaceId: aws.String(target)})
		wantAPIError(t, err, 400, CodeRouteAlreadyExists)
	}
	st := ts.Stats()
	if st.Count("CreateRoute", "ok") != 1 || st.Count("CreateRoute", CodeRouteAlreadyExists) != 2 || st.Writes != 3 {
		t.Errorf("stats = %+v", st)
	}
}

func TestEC2CreateRouteErrors(t *testing.T) {
	ts := NewTestServer(t, multiENITopology())
	c := ec2Client(ts)
	cases := []struct {
		name string
		in   ec2.CreateRouteInput
		code string
	}{
		{"unknown table", ec2.CreateRouteInput{RouteTableId: aws.String("rtb-0000000000000dead"), DestinationCidrBlock: aws.String("10.0.0.0/24"), NetworkInterfaceId: aws.String(eniA)}, CodeRouteTableNotFound},
		{"unknown ENI", ec2.CreateRouteInput{RouteTableId: aws.String(awsTable), DestinationCidrBlock: aws.String("10.0.0.0/24"), NetworkInterfaceId: aws.String("eni-0000000000000dead")}, CodeENINotFound},
		{"unknown instance", ec2.CreateRouteInput{RouteTableId: aws.String(awsTable), DestinationCidrBlock: aws.String("10.0.0.0/24"), InstanceId: aws.String("i-0000000000000dead")}, CodeEC2InstanceNotFound},
		{"multi-ENI instance", ec2.CreateRouteInput{RouteTableId: aws.String(awsTable), DestinationCidrBlock: aws.String("10.0.0.0/24"), InstanceId: aws.String(instC)}, CodeInvalidInstanceID},
		{"no destination", ec2.CreateRouteInput{RouteTableId: aws.String(awsTable), NetworkInterfaceId: aws.String(eniA)}, CodeMissingParameter},
		{"no target", ec2.CreateRouteInput{RouteTableId: aws.String(awsTable), DestinationCidrBlock: aws.String("10.0.0.0/24")}, CodeMissingParameter},
		{"two targets", ec2.CreateRouteInput{RouteTableId: aws.String(awsTable), DestinationCidrBlock: aws.String("10.0.0.0/24"), NetworkInterfaceId: aws.String(eniA), GatewayId: aws.String("igw-1")}, CodeInvalidParameterCombination},
		{"host bits", ec2.CreateRouteInput{RouteTableId: aws.String(awsTable), DestinationCidrBlock: aws.String("10.0.0.1/24"), NetworkInterfaceId: aws.String(eniA)}, CodeInvalidParameterValue},
		{"not a CIDR", ec2.CreateRouteInput{RouteTableId: aws.String(awsTable), DestinationCidrBlock: aws.String("ten/8"), NetworkInterfaceId: aws.String(eniA)}, CodeInvalidParameterValue},
		{"inside the VPC", ec2.CreateRouteInput{RouteTableId: aws.String(awsTable), DestinationCidrBlock: aws.String("192.168.7.0/24"), NetworkInterfaceId: aws.String(eniA)}, CodeInvalidParameterValue},
		{"inside the second CIDR", ec2.CreateRouteInput{RouteTableId: aws.String(awsTable), DestinationCidrBlock: aws.String("172.20.1.0/24"), NetworkInterfaceId: aws.String(eniA)}, CodeInvalidParameterValue},
		{"local route", ec2.CreateRouteInput{RouteTableId: aws.String(awsTable), DestinationCidrBlock: aws.String("192.168.0.0/16"), NetworkInterfaceId: aws.String(eniA)}, CodeRouteAlreadyExists},
		{"endpoint route", ec2.CreateRouteInput{RouteTableId: aws.String(awsTable), DestinationPrefixListId: aws.String("pl-6da54004"), GatewayId: aws.String("vpce-1")}, CodeRouteAlreadyExists},
		{"IPv6", ec2.CreateRouteInput{RouteTableId: aws.String(awsTable), DestinationIpv6CidrBlock: aws.String("2001:db8::/64"), NetworkInterfaceId: aws.String(eniA)}, CodeInvalidParameterValue},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.CreateRoute(bg, &tc.in)
			ae := wantAPIError(t, err, 400, tc.code)
			if tc.code == CodeInvalidInstanceID && !strings.Contains(ae.ErrorMessage(), "multiple interfaces attached to instance") {
				t.Errorf("message = %q", ae.ErrorMessage())
			}
		})
	}
	if n := len(routeTable(t, c, awsTable).Routes); n != 5 {
		t.Errorf("failed calls changed the table: %d routes", n)
	}
	// The multi-ENI instance is routable through one of its ENIs.
	createENIRoute(t, c, "10.2.0.0/24", "eni-0cccccccccccccccd")
	if r := routeTo(routeTable(t, c, awsTable), "10.2.0.0/24"); r == nil || aws.ToString(r.InstanceId) != instC || r.State != types.RouteStateActive {
		t.Errorf("route to the second ENI = %+v", r)
	}
}

func TestEC2CreateRouteToInstance(t *testing.T) {
	ts := startAWS(t)
	c := ec2Client(ts)
	if _, err := c.CreateRoute(bg, &ec2.CreateRouteInput{RouteTableId: aws.String(awsTable),
		DestinationCidrBlock: aws.String("10.1.0.0/24"), InstanceId: aws.String(instB)}); err != nil {
		t.Fatal(err)
	}
	// EC2 resolves a single-ENI instance to its ENI and shows both.
	r := routeTo(routeTable(t, c, awsTable), "10.1.0.0/24")
	if r == nil || aws.ToString(r.InstanceId) != instB || aws.ToString(r.NetworkInterfaceId) != eniB || r.State != types.RouteStateActive {
		t.Errorf("route = %+v", r)
	}
}

func TestEC2ReplaceRoute(t *testing.T) {
	ts := startAWS(t)
	c := ec2Client(ts)
	createENIRoute(t, c, "10.1.0.0/24", eniA)
	if _, err := c.ReplaceRoute(bg, &ec2.ReplaceRouteInput{RouteTableId: aws.String(awsTable),
		DestinationCidrBlock: aws.String("10.1.0.0/24"), NetworkInterfaceId: aws.String(eniB)}); err != nil {
		t.Fatal(err)
	}
	rt := routeTable(t, c, awsTable)
	r := routeTo(rt, "10.1.0.0/24")
	if r == nil || aws.ToString(r.NetworkInterfaceId) != eniB || aws.ToString(r.InstanceId) != instB || r.State != types.RouteStateActive {
		t.Errorf("replaced route = %+v", r)
	}
	if len(rt.Routes) != 6 {
		t.Errorf("replace changed the number of routes: %d", len(rt.Routes))
	}

	_, err := c.ReplaceRoute(bg, &ec2.ReplaceRouteInput{RouteTableId: aws.String(awsTable),
		DestinationCidrBlock: aws.String("10.7.0.0/24"), NetworkInterfaceId: aws.String(eniB)})
	if ae := wantAPIError(t, err, 400, CodeInvalidParameterValue); !strings.Contains(ae.ErrorMessage(), "Use CreateRoute instead") {
		t.Errorf("message = %q", ae.ErrorMessage())
	}
	_, err = c.ReplaceRoute(bg, &ec2.ReplaceRouteInput{RouteTableId: aws.String(awsTable),
		DestinationCidrBlock: aws.String("192.168.0.0/16"), NetworkInterfaceId: aws.String(eniB)})
	wantAPIError(t, err, 400, CodeInvalidParameterValue)
	_, err = c.ReplaceRoute(bg, &ec2.ReplaceRouteInput{RouteTableId: aws.String(awsTable),
		DestinationCidrBlock: aws.String("10.1.0.0/24"), NetworkInterfaceId: aws.String("eni-0000000000000dead")})
	wantAPIError(t, err, 400, CodeENINotFound)
	_, err = c.ReplaceRoute(bg, &ec2.ReplaceRouteInput{RouteTableId: aws.String("rtb-0000000000000dead"),
		DestinationCidrBlock: aws.String("10.1.0.0/24"), NetworkInterfaceId: aws.String(eniB)})
	wantAPIError(t, err, 400, CodeRouteTableNotFound)
	if r := routeTo(routeTable(t, c, awsTable), "10.1.0.0/24"); aws.ToString(r.NetworkInterfaceId) != eniB {
		t.Errorf("a failed replace changed the route: %+v", r)
	}

	// Replacing a blackhole route's target revives it.
	if _, err := ts.PutRoute(PutRouteRequest{Table: awsTable, Destination: "10.3.0.0/24", NextHopType: HopNetworkInterface, NextHopID: "eni-0000000000000gone"}); err != nil {
		t.Fatal(err)
	}
	if r := routeTo(routeTable(t, c, awsTable), "10.3.0.0/24"); r == nil || r.State != types.RouteStateBlackhole {
		t.Fatalf("route to a missing ENI = %+v", r)
	}
	if _, err := c.ReplaceRoute(bg, &ec2.ReplaceRouteInput{RouteTableId: aws.String(awsTable),
		DestinationCidrBlock: aws.String("10.3.0.0/24"), NetworkInterfaceId: aws.String(eniA)}); err != nil {
		t.Fatal(err)
	}
	if r := routeTo(routeTable(t, c, awsTable), "10.3.0.0/24"); r.State != types.RouteStateActive || aws.ToString(r.InstanceId) != instA {
		t.Errorf("revived route = %+v", r)
	}
}

func TestEC2DeleteRoute(t *testing.T) {
	ts := startAWS(t)
	c := ec2Client(ts)
	createENIRoute(t, c, "10.1.0.0/24", eniB)
	if _, err := c.DeleteRoute(bg, &ec2.DeleteRouteInput{RouteTableId: aws.String(awsTable), DestinationCidrBlock: aws.String("10.1.0.0/24")}); err != nil {
		t.Fatal(err)
	}
	if r := routeTo(routeTable(t, c, awsTable), "10.1.0.0/24"); r != nil {
		t.Fatalf("deleted route still listed: %+v", r)
	}
	_, err := c.DeleteRoute(bg, &ec2.DeleteRouteInput{RouteTableId: aws.String(awsTable), DestinationCidrBlock: aws.String("10.1.0.0/24")})
	if ae := wantAPIError(t, err, 400, CodeRouteNotFound); ae.ErrorMessage() != "no route with destination-cidr-block 10.1.0.0/24 in route table "+awsTable {
		t.Errorf("message = %q", ae.ErrorMessage())
	}
	_, err = c.DeleteRoute(bg, &ec2.DeleteRouteInput{RouteTableId: aws.String(awsTable), DestinationCidrBlock: aws.String("172.20.0.0/16")})
	wantAPIError(t, err, 400, CodeInvalidParameterValue)
	_, err = c.DeleteRoute(bg, &ec2.DeleteRouteInput{RouteTableId: aws.String("rtb-0000000000000dead"), DestinationCidrBlock: aws.String("10.1.0.0/24")})
	wantAPIError(t, err, 400, CodeRouteTableNotFound)
	if _, err := c.DeleteRoute(bg, &ec2.DeleteRouteInput{RouteTableId: aws.String(awsTable), DestinationPrefixListId: aws.String("pl-6da54004")}); err != nil {
		t.Fatalf("delete by prefix list: %v", err)
	}
	if r := routeTo(routeTable(t, c, awsTable), "pl-6da54004"); r != nil {
		t.Errorf("endpoint route still listed: %+v", r)
	}
}

func TestEC2RouteLimit(t *testing.T) {
	ts := startAWS(t, WithBehaviour(func(b *Behaviour) { b.Quota = 5 }))
	c := ec2Client(ts)
	// Three routes of the default table count; local routes do not.
	createENIRoute(t, c, "10.0.0.0/24", eniA)
	createENIRoute(t, c, "10.1.0.0/24", eniB)
	_, err := c.CreateRoute(bg, &ec2.CreateRouteInput{RouteTableId: aws.String(awsTable),
		DestinationCidrBlock: aws.String("10.2.0.0/24"), NetworkInterfaceId: aws.String(eniA)})
	ae := wantAPIError(t, err, 400, CodeRouteLimitExceeded)
	// EC2's documented text, which says neither the table nor the limit.
	if ae.ErrorMessage() != "You've reached the limit on the number of routes that you can add to a route table." {
		t.Errorf("message = %q", ae.ErrorMessage())
	}
	// Replacing is not adding: it works at the limit.
	if _, err := c.ReplaceRoute(bg, &ec2.ReplaceRouteInput{RouteTableId: aws.String(awsTable),
		DestinationCidrBlock: aws.String("10.0.0.0/24"), NetworkInterfaceId: aws.String(eniB)}); err != nil {
		t.Errorf("replace at the limit: %v", err)
	}
	if ts.Behaviour().Quota != 5 {
		t.Errorf("quota = %d", ts.Behaviour().Quota)
	}
}
