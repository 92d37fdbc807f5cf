package aws

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	awsv2 "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/vpcroute/vpcroute/cloud"
)

// Host preparation, target existence and the network, through fakeEC2.

func TestGoneTargets(t *testing.T) {
	f := newFake()
	f.addENI("eni-run", "i-run", testCluster)
	f.addENI("eni-stop", "i-stop", testCluster)
	f.instances["i-stop"] = types.InstanceStateNameStopped
	f.addENI("eni-term", "i-term", testCluster)
	f.instances["i-term"] = types.InstanceStateNameTerminated
	f.addENI("eni-shut", "i-shut", testCluster)
	f.instances["i-shut"] = types.InstanceStateNameShuttingDown
	f.addENI("eni-free", "", testCluster)
	f.instances["i-gone-term"] = types.InstanceStateNameTerminated
	f.instances["i-running"] = types.InstanceStateNameRunning
	p, _ := newFakeProvider(t, f, nil)
	targets := []cloud.Target{
		eniTarget("eni-run"), eniTarget("eni-stop"), eniTarget("eni-term"), eniTarget("eni-shut"),
		eniTarget("eni-free"), eniTarget("eni-deleted"), eniTarget("eni-deleted"), eniTarget("not-an-eni"),
		{Kind: cloud.TargetInstance, ID: "i-running"}, {Kind: cloud.TargetInstance, ID: "i-gone-term"},
		{Kind: cloud.TargetInstance, ID: "i-absent"}, {Kind: "NatGateway", ID: "nat-1"},
	}
	gone, err := p.GoneTargets(context.Background(), targets)
	if err != nil {
		t.Fatal(err)
	}
	want := "[NetworkInterface/eni-term NetworkInterface/eni-shut NetworkInterface/eni-deleted Instance/i-gone-term Instance/i-absent]"
	if fmt.Sprint(gone) != want {
		t.Errorf("gone = %v\nwant   %s", gone, want)
	}
	if n := f.count("DescribeInstances"); n != 1 {
		t.Errorf("DescribeInstances calls = %d, want 1", n)
	}
	f.fail = func(action string) error {
		if action == "DescribeInstances" {
			return apiErr(action, 403, codeUnauthorized, "denied")
		}
		return nil
	}
	if gone, err := p.GoneTargets(context.Background(), targets); err == nil || gone != nil {
		t.Errorf("on error: gone = %v, err = %v; want nothing gone and the error", gone, err)
	}
}

func TestPrepareHost(t *testing.T) {
	f := newFake()
	f.addENI("eni-aaa", "i-aaa", "")
	p, _ := newFakeProvider(t, f, nil)
	ctx := context.Background()
	if err := p.PrepareHost(ctx); err != nil {
		t.Fatal(err)
	}
	ni := f.enis["eni-aaa"]
	if tagValue(ni.TagSet, TagKey) != testCluster || *ni.SourceDestCheck {
		t.Fatalf("ENI after PrepareHost: tags %v, source/dest check %v", ni.TagSet, *ni.SourceDestCheck)
	}
	if c, m, v := f.count("CreateTags"), f.count("ModifyNetworkInterfaceAttribute"), f.count("DescribeNetworkInterfaceAttribute"); c != 1 || m != 1 || v != 2 {
		t.Errorf("CreateTags/Modify/DescribeAttribute = %d/%d/%d, want 1/1/2 (read, change, verify)", c, m, v)
	}
	total := func() int {
		n := 0
		for _, c := range f.calls {
			n += c
		}
		return n
	}
	before := total()
	if err := p.PrepareHost(ctx); err != nil {
		t.Fatal(err)
	}
	if n := total() - before; n != 0 {
		t.Errorf("a second PrepareHost made %d calls, want 0", n)
	}
	// A new process finds it done and sends no write.
	p2, _ := newFakeProvider(t, f, nil)
	if err := p2.PrepareHost(ctx); err != nil {
		t.Fatal(err)
	}
	if w := f.writes(); w != 2 {
		t.Errorf("writes = %d, want still 2", w)
	}
}

func TestPrepareHostRefuses(t *testing.T) {
	t.Run("another cluster's ENI", func(t *testing.T) {
		f := newFake()
		f.addENI("eni-aaa", "i-aaa", "prod")
		p, _ := newFakeProvider(t, f, nil)
		err := p.PrepareHost(context.Background())
		if err == nil || !strings.Contains(err.Error(), `eni-aaa is tagged vpcroute:cluster=prod: this host belongs to vpcroute cluster "prod"`) {
			t.Errorf("err = %v", err)
		}
		if f.writes() != 0 {
			t.Error("a write was sent")
		}
	})
	t.Run("ENI of another instance", func(t *testing.T) {
		f := newFake()
		f.addENI("eni-aaa", "i-bbb", "")
		p, _ := newFakeProvider(t, f, nil)
		err := p.PrepareHost(context.Background())
		if err == nil || !strings.Contains(err.Error(), "eni-aaa is attached to i-bbb, not to this instance i-aaa") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("check stays on", func(t *testing.T) {
		f := newFake()
		f.addENI("eni-aaa", "i-aaa", testCluster)
		// The fake applies the change; turn the check back on before
		// every read, as an ENI that refuses the change would look.
		f.fail = func(action string) error {
			if action == "DescribeNetworkInterfaceAttribute" {
				f.mu.Lock()
				f.enis["eni-aaa"].SourceDestCheck = awsv2.Bool(true)
				f.mu.Unlock()
			}
			return nil
		}
		p, _ := newFakeProvider(t, f, nil)
		err := p.PrepareHost(context.Background())
		if err == nil || !strings.Contains(err.Error(), "still on after it was turned off") {
			t.Errorf("err = %v", err)
		}
		if p.prepared {
			t.Error("a failed PrepareHost was remembered as done")
		}
	})
}

func TestNetwork(t *testing.T) {
	f := newFake()
	f.addTable("rtb-a")
	f.addTable("rtb-b")
	f.addTable("rtb-edge")
	f.tables["rtb-edge"].Associations = []types.RouteTableAssociation{{GatewayId: awsv2.String("igw-1")}}
	p, _ := newFakeProvider(t, f, nil)
	n, err := p.Network(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprintln(n.VPCID, n.CIDRs, n.SubnetCIDRs, n.RouteTables); got != "vpc-test [172.31.0.0/16 100.64.0.0/16] [172.31.1.0/24] [rtb-a rtb-b]\n" {
		t.Errorf("Network = %s", got)
	}
	p2, _ := newFakeProvider(t, f, func(o *Options) {
		o.RouteTables = []string{"rtb-b"}
		o.VPCCIDRs = []netip.Prefix{netip.MustParsePrefix("172.31.0.0/16")}
	})
	before := f.count("DescribeVpcs") + f.count("DescribeRouteTables")
	n, err = p2.Network(context.Background())
	if err != nil || fmt.Sprint(n.CIDRs, n.RouteTables) != "[172.31.0.0/16] [rtb-b]" {
		t.Errorf("Network with overrides = %+v, %v", n, err)
	}
	if d := f.count("DescribeVpcs") + f.count("DescribeRouteTables") - before; d != 0 {
		t.Errorf("overrides still made %d calls", d)
	}
}

func TestPrepareHostWaitsForTheNewTagToAuthorize(t *testing.T) {
	f := newFake()
	f.addENI("eni-aaa", "i-aaa", "")
	denied := 2
	f.fail = func(action string) error {
		if action == "ModifyNetworkInterfaceAttribute" && denied > 0 {
			denied--
			return apiErr(action, 403, codeUnauthorized, "You are not authorized to perform this operation.")
		}
		return nil
	}
	p, _ := newFakeProvider(t, f, nil)
	if err := p.PrepareHost(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := f.count("ModifyNetworkInterfaceAttribute"); n != 3 {
		t.Errorf("Modify calls = %d, want 3", n)
	}
	// Without a tag just written, a denial is final at once.
	g := newFake()
	g.addENI("eni-aaa", "i-aaa", testCluster)
	g.fail = func(action string) error {
		if action == "ModifyNetworkInterfaceAttribute" {
			return apiErr(action, 403, codeUnauthorized, "You are not authorized to perform this operation.")
		}
		return nil
	}
	p, _ = newFakeProvider(t, g, nil)
	err := p.PrepareHost(context.Background())
	if err == nil || !strings.Contains(err.Error(), "UnauthorizedOperation") || g.count("ModifyNetworkInterfaceAttribute") != 1 {
		t.Errorf("err = %v after %d calls", err, g.count("ModifyNetworkInterfaceAttribute"))
	}
}
