package aws

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/cloud/sim"
)

func TestSimIdentityFromIMDSv2AndNetwork(t *testing.T) {
	ts := newSim(t, nil)
	want := cloud.Instance{ID: simInstB, Region: simRegion, VPCID: simVPC, PrivateIP: netip.MustParseAddr("192.168.1.197"),
		Target: eniTarget(simENIB)}
	// The simulator's per-instance listener, and the shared one below a
	// path (which the SDK's IMDS client alone would drop).
	for _, md := range []string{ts.MetadataEndpoint(simInstB), ts.MetadataURL(simInstB)} {
		p := simProvider(t, ts, simInstB, func(o *Options) { o.MetadataEndpoint = md })
		if self, _ := p.Self(context.Background()); self != want {
			t.Errorf("%s: Self = %+v\nwant %+v", md, self, want)
		}
	}
	p := simProvider(t, ts, simInstB, nil)
	n, err := p.Network(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(n.CIDRs, n.SubnetCIDRs, n.RouteTables); got != "[192.168.0.0/16 172.20.0.0/16] [192.168.1.0/24] ["+simTable+"]" {
		t.Errorf("Network = %s", got)
	}
}

func TestSimMultiENIInstanceTargetsItsPrimaryENI(t *testing.T) {
	ts := newSim(t, func(topo *sim.Topology) {
		topo.Instances = append(topo.Instances, sim.InstanceSpec{
			ID: "i-0ccccccccccccccccc", PrivateIP: "192.168.1.198", ENI: "eni-0ccccccccccccccccc", MAC: "0a:cc:cc:cc:cc:cc",
			NetworkInterfaces: []sim.ENISpec{{ID: "eni-0cccccccccccccccc2", PrivateIP: "192.168.1.199", MAC: "0a:cc:cc:cc:cc:c2"}},
		})
	})
	p := simProvider(t, ts, "i-0ccccccccccccccccc", nil)
	self, _ := p.Self(context.Background())
	if self.Target != eniTarget("eni-0ccccccccccccccccc") {
		t.Fatalf("Self.Target = %v, want the primary ENI", self.Target)
	}
	ctx := context.Background()
	if err := p.PrepareHost(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.CreateRoutes(ctx, simTable, []cloud.Route{simRoute("10.2.0.0/24", self.Target.ID)}); err != nil {
		t.Fatal(err)
	}
	if got := simOwned(t, p); fmt.Sprint(got) != "[10.2.0.0/24>eni-0ccccccccccccccccc Available]" {
		t.Errorf("owned = %v", got)
	}
}

func TestSimIdentityOverridesNeedNoMetadata(t *testing.T) {
	ts := newSim(t, nil)
	pinEnv(t, true)
	// No metadata service at all: everything comes from the options.
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	o := simOptions(ts, simInstA)
	o.MetadataEndpoint = "http://127.0.0.1:1"
	o.Region, o.InstanceID, o.VPCID, o.NetworkInterfaceID = simRegion, simInstA, simVPC, simENIA
	o.PrivateIP = netip.MustParseAddr("192.168.1.196")
	p, err := New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if self, _ := p.Self(context.Background()); self.Target.ID != simENIA || self.ID != simInstA {
		t.Errorf("Self = %+v", self)
	}
	if _, err := p.Network(context.Background()); err != nil {
		t.Errorf("Network: %v", err)
	}
}

func TestSimCredentials(t *testing.T) {
	ts := newSim(t, func(topo *sim.Topology) {
		topo.Instances = append(topo.Instances, sim.InstanceSpec{ID: "i-0dddddddddddddddd", PrivateIP: "192.168.1.200"})
	})
	t.Run("instance role through the configured metadata endpoint", func(t *testing.T) {
		pinEnv(t, false)
		for _, md := range []string{ts.MetadataEndpoint(simInstA), ts.MetadataURL(simInstA)} {
			o := simOptions(ts, simInstA)
			o.MetadataEndpoint = md
			p, err := New(context.Background(), o)
			if err != nil {
				t.Fatalf("%s: %v", md, err)
			}
			if _, err := p.Network(context.Background()); err != nil {
				t.Errorf("%s: calls signed with the role's credentials failed: %v", md, err)
			}
		}
	})
	t.Run("no credentials at all", func(t *testing.T) {
		pinEnv(t, false)
		_, err := New(context.Background(), simOptions(ts, "i-0dddddddddddddddd"))
		if err == nil || !strings.HasPrefix(err.Error(), "no AWS credentials: attach an instance profile") || strings.Contains(err.Error(), "\n") {
			t.Errorf("err = %q", err)
		}
	})
	t.Run("wrong secret is final and never printed", func(t *testing.T) {
		pinEnv(t, true)
		t.Setenv("AWS_SECRET_ACCESS_KEY", "s3cr3t-value")
		p, err := New(context.Background(), simOptions(ts, simInstA))
		if err != nil {
			t.Fatal(err)
		}
		ts.ResetStats()
		_, err = p.Network(context.Background())
		if err == nil || strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), "\n") {
			t.Errorf("err = %q", err)
		}
		if n := ts.Stats().Calls("DescribeVpcs"); n != 1 {
			t.Errorf("DescribeVpcs sent %d times with a wrong key, want 1", n)
		}
	})
}
