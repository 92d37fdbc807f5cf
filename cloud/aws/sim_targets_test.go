package aws

import (
	"context"
	"fmt"
	"testing"

	awsv2 "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/cloud/sim"
)

// The leader derives each host's target from EC2: the primary ENI of a
// live instance in the VPC, whatever the host's record says.
func TestSimInstanceTargets(t *testing.T) {
	ts := newSim(t, func(topo *sim.Topology) {
		topo.Instances = append(topo.Instances, sim.InstanceSpec{
			ID: "i-0ccccccccccccccccc", PrivateIP: "192.168.1.198", ENI: "eni-0ccccccccccccccccc", MAC: "0a:cc:cc:cc:cc:cc",
			NetworkInterfaces: []sim.ENISpec{{ID: "eni-0cccccccccccccccc2", PrivateIP: "192.168.1.199", MAC: "0a:cc:cc:cc:cc:c2"}},
		})
	})
	if err := ts.SetInstanceState(simInstB, "terminated"); err != nil {
		t.Fatal(err)
	}
	p := simProvider(t, ts, simInstA, nil)
	claims := map[string]cloud.Target{
		simInstA: eniTarget(simENIB), // another instance's ENI: not this one's
		simInstB: eniTarget(simENIB), "i-0ccccccccccccccccc": {Kind: "NatGateway", ID: "nat-1"},
		"i-0deadbeefdeadbeef": eniTarget(simENIA), "not-an-id": eniTarget(simENIA),
	}
	got, err := p.InstanceTargets(context.Background(), claims)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]cloud.Target{simInstA: eniTarget(simENIA), "i-0ccccccccccccccccc": eniTarget("eni-0ccccccccccccccccc")}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("InstanceTargets = %v\nwant %v (terminated, unknown and malformed left out; the primary ENI of a multi-ENI instance)", got, want)
	}
	// A host that routes through its second ENI (--network-interface-id)
	// keeps it: that ENI is attached to it.
	got, err = p.InstanceTargets(context.Background(), map[string]cloud.Target{"i-0ccccccccccccccccc": eniTarget("eni-0cccccccccccccccc2")})
	if err != nil || got["i-0ccccccccccccccccc"] != eniTarget("eni-0cccccccccccccccc2") {
		t.Fatalf("stated secondary ENI: %v, %v", got, err)
	}
}

func TestPrimaryENI(t *testing.T) {
	eni := func(id, vpc string, index int32) types.InstanceNetworkInterface {
		return types.InstanceNetworkInterface{NetworkInterfaceId: awsv2.String(id), VpcId: awsv2.String(vpc),
			Attachment: &types.InstanceNetworkInterfaceAttachment{DeviceIndex: awsv2.Int32(index)}}
	}
	inst := func(state types.InstanceStateName, vpc string, nis ...types.InstanceNetworkInterface) types.Instance {
		return types.Instance{InstanceId: awsv2.String("i-1"), VpcId: awsv2.String(vpc), State: &types.InstanceState{Name: state}, NetworkInterfaces: nis}
	}
	tests := []struct {
		name string
		in   types.Instance
		want string
	}{
		{"running, primary first", inst(types.InstanceStateNameRunning, "vpc-1", eni("eni-p", "vpc-1", 0), eni("eni-s", "vpc-1", 1)), "eni-p"},
		{"primary listed second", inst(types.InstanceStateNameStopped, "vpc-1", eni("eni-s", "vpc-1", 1), eni("eni-p", "vpc-1", 0)), "eni-p"},
		{"another VPC", inst(types.InstanceStateNameRunning, "vpc-2", eni("eni-p", "vpc-2", 0)), ""},
		{"terminated", inst(types.InstanceStateNameTerminated, "vpc-1", eni("eni-p", "vpc-1", 0)), ""},
		{"shutting down", inst(types.InstanceStateNameShuttingDown, "vpc-1", eni("eni-p", "vpc-1", 0)), ""},
		{"no primary", inst(types.InstanceStateNameRunning, "vpc-1", eni("eni-s", "vpc-1", 1)), ""},
	}
	two := inst(types.InstanceStateNameRunning, "vpc-1", eni("eni-p", "vpc-1", 0), eni("eni-s", "vpc-1", 1))
	if got := instanceENI(two, "vpc-1", "eni-s"); got != "eni-s" {
		t.Errorf("stated attached ENI: %q, want eni-s", got)
	}
	if got := instanceENI(two, "vpc-1", "eni-elsewhere"); got != "eni-p" {
		t.Errorf("stated ENI not attached: %q, want the primary", got)
	}
	for _, tt := range tests {
		if got := instanceENI(tt.in, "vpc-1", ""); got != tt.want {
			t.Errorf("%s: instanceENI = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// Verifying the hosts and confirming targets gone look instances and ENIs
// up by ID at EC2's most filter values per call (200), each ID once:
// 400 hosts cost two DescribeInstances, and two DescribeNetworkInterfaces
// plus two DescribeInstances to confirm which are gone.
func TestSimLookupsByIDAreFewest(t *testing.T) {
	const n = 2 * sim.EC2MaxFilterValues
	ts := newSim(t, func(topo *sim.Topology) {
		// Room for n more hosts.
		for i := range topo.Subnets {
			topo.Subnets[i].CIDR = "192.168.0.0/20"
		}
		for i := range topo.VSwitches {
			topo.VSwitches[i].CIDR = "192.168.0.0/20"
		}
		for i := range n {
			topo.Instances = append(topo.Instances, sim.InstanceSpec{ID: fmt.Sprintf("i-1%016x", i),
				PrivateIP: fmt.Sprintf("192.168.%d.%d", 2+i/250, 1+i%250), ENI: fmt.Sprintf("eni-1%016x", i)})
		}
	})
	p := simProvider(t, ts, simInstA, nil)
	claims := map[string]cloud.Target{}
	var enis []cloud.Target
	for i := range n {
		claims[fmt.Sprintf("i-1%016x", i)] = eniTarget(fmt.Sprintf("eni-1%016x", i))
		enis = append(enis, eniTarget(fmt.Sprintf("eni-1%016x", i)), eniTarget(fmt.Sprintf("eni-1%016x", i))) // each twice
	}
	ts.ResetStats()
	got, err := p.InstanceTargets(context.Background(), claims)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("InstanceTargets listed %d of %d live instances", len(got), n)
	}
	if st := ts.Stats(); st.Reads != 2 || st.Calls("DescribeInstances") != 2 {
		t.Errorf("verifying %d instances took %d reads (%v), want 2 DescribeInstances", n, st.Reads, st.Actions)
	}
	ts.ResetStats()
	gone, err := p.GoneTargets(context.Background(), enis)
	if err != nil || len(gone) != 0 {
		t.Fatalf("GoneTargets = %v, %v; want none gone", gone, err)
	}
	if st := ts.Stats(); st.Reads != 4 || st.Calls("DescribeInstances") != 2 || st.Calls("DescribeNetworkInterfaces") != 2 {
		t.Errorf("confirming %d ENIs took %d reads (%v), want 2 DescribeNetworkInterfaces and 2 DescribeInstances", n, st.Reads, st.Actions)
	}
}
