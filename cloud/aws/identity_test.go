package aws

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"

	awsv2 "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/cloud/sim"
)

// noMetadata is a metadata endpoint nothing listens on.
const noMetadata = "http://127.0.0.1:1"

// TestSimIdentityFromDescribeInstances: with --instance-id and no metadata
// service (turned off, or not answering), the private address, the VPC and
// the primary ENI come from DescribeInstances; the region from the option
// or AWS_REGION.
func TestSimIdentityFromDescribeInstances(t *testing.T) {
	const multi, primary, second = "i-0ccccccccccccccccc", "eni-0ccccccccccccccccc", "eni-0cccccccccccccccc2"
	ts := newSim(t, func(topo *sim.Topology) {
		topo.Instances = append(topo.Instances, sim.InstanceSpec{
			ID: multi, PrivateIP: "192.168.1.198", ENI: primary, MAC: "0a:cc:cc:cc:cc:cc",
			NetworkInterfaces: []sim.ENISpec{{ID: second, PrivateIP: "192.168.1.199", MAC: "0a:cc:cc:cc:cc:c2"}},
		})
	})
	tests := []struct {
		name, instance, region, awsRegion, disabled string
		want                                        cloud.Instance
	}{
		{"metadata disabled, --region", simInstB, simRegion, "", "true",
			cloud.Instance{ID: simInstB, Region: simRegion, VPCID: simVPC, PrivateIP: netip.MustParseAddr("192.168.1.197"), Target: eniTarget(simENIB)}},
		{"metadata disabled, AWS_REGION", simInstA, "", simRegion, "true",
			cloud.Instance{ID: simInstA, Region: simRegion, VPCID: simVPC, PrivateIP: netip.MustParseAddr("192.168.1.196"), Target: eniTarget(simENIA)}},
		{"metadata not answering", simInstA, simRegion, "", "false",
			cloud.Instance{ID: simInstA, Region: simRegion, VPCID: simVPC, PrivateIP: netip.MustParseAddr("192.168.1.196"), Target: eniTarget(simENIA)}},
		{"several interfaces: the primary", multi, simRegion, "", "true",
			cloud.Instance{ID: multi, Region: simRegion, VPCID: simVPC, PrivateIP: netip.MustParseAddr("192.168.1.198"), Target: eniTarget(primary)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pinEnv(t, true)
			t.Setenv("AWS_EC2_METADATA_DISABLED", tt.disabled)
			t.Setenv("AWS_REGION", tt.awsRegion)
			o := simOptions(ts, tt.instance)
			o.MetadataEndpoint, o.InstanceID, o.Region = noMetadata, tt.instance, tt.region
			before := ts.Stats().Calls("DescribeInstances")
			p, err := New(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			if self, _ := p.Self(context.Background()); self != tt.want {
				t.Errorf("Self = %+v\nwant   %+v", self, tt.want)
			}
			if n := ts.Stats().Calls("DescribeInstances") - before; n != 1 {
				t.Errorf("DescribeInstances called %d times, want 1", n)
			}
			// The identity is good enough to route by.
			if _, err := p.Network(context.Background()); err != nil {
				t.Errorf("Network: %v", err)
			}
		})
	}
}

// TestSimIdentityWithoutMetadataErrors: what DescribeInstances cannot
// give is asked for by its flag, in one line, before anything is written.
func TestSimIdentityWithoutMetadataErrors(t *testing.T) {
	ts := newSim(t, nil)
	tests := []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"no instance ID: metadata is needed", func(o *Options) { o.InstanceID = "" }, "(or give --instance-id)"},
		{"no region anywhere", func(o *Options) { o.Region = "" }, "region is unknown: instance metadata cannot say it"},
		{"an instance that is not there", func(o *Options) { o.InstanceID = "i-0ffffffffffffffff" },
			`identity: instance-id "i-0ffffffffffffffff" is not an instance in eu-west-1 (DescribeInstances lists 0); expected this host's instance ID`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pinEnv(t, true)
			t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
			o := simOptions(ts, simInstA)
			o.MetadataEndpoint, o.InstanceID, o.Region = noMetadata, simInstA, simRegion
			tt.edit(&o)
			_, err := New(context.Background(), o)
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("err = %v, want one line with %q", err, tt.want)
			}
		})
	}
	if st := ts.Stats(); st.Writes != 0 {
		t.Errorf("%d write calls", st.Writes)
	}
}

// TestIdentityFromInstance is the choice DescribeInstances' answer is put
// to: options win, the primary interface is device index 0 wherever it is
// listed, and a gap or a dead instance is an error naming the flag.
func TestIdentityFromInstance(t *testing.T) {
	attached := func(id string, index int32) types.InstanceNetworkInterface {
		return types.InstanceNetworkInterface{NetworkInterfaceId: awsv2.String(id),
			Attachment: &types.InstanceNetworkInterfaceAttachment{DeviceIndex: awsv2.Int32(index)}}
	}
	listed := types.Instance{InstanceId: awsv2.String("i-aaa"), PrivateIpAddress: awsv2.String("192.168.1.196"), VpcId: awsv2.String("vpc-lab"),
		State:             &types.InstanceState{Name: types.InstanceStateNameRunning},
		NetworkInterfaces: []types.InstanceNetworkInterface{attached("eni-second", 1), attached("eni-primary", 0)}}
	base := cloud.Instance{ID: "i-aaa", Region: "eu-west-1"}
	tests := []struct {
		name string
		self cloud.Instance
		eni  string
		edit func(*types.Instance)
		want string // the identity as "ip vpc target", or the error
	}{
		{"from the instance", base, "", nil, "192.168.1.196 vpc-lab NetworkInterface/eni-primary"},
		{"options win", cloud.Instance{ID: "i-aaa", Region: "eu-west-1", VPCID: "vpc-mine", PrivateIP: netip.MustParseAddr("10.1.1.1")},
			"eni-mine", nil, "10.1.1.1 vpc-mine NetworkInterface/eni-mine"},
		{"no primary", base, "", func(in *types.Instance) { in.NetworkInterfaces = in.NetworkInterfaces[:1] },
			`identity: DescribeInstances gives i-aaa no primary network interface (device index 0); expected --network-interface-id`},
		{"no address", base, "", func(in *types.Instance) { in.PrivateIpAddress = nil },
			`identity: DescribeInstances gives i-aaa the private address "", not an IPv4 address; expected --private-ip`},
		{"no VPC", base, "", func(in *types.Instance) { in.VpcId = nil }, `identity: DescribeInstances gives i-aaa no VPC; expected --vpc-id`},
		{"terminated", base, "", func(in *types.Instance) { in.State = &types.InstanceState{Name: types.InstanceStateNameTerminated} },
			`identity: instance-id "i-aaa" is terminated; expected this host's running instance`},
		{"malformed", base, "", func(in *types.Instance) { in.VpcId = awsv2.String("vpc_1") },
			`identity from DescribeInstances: vpc-id "vpc_1" is invalid: expected a VPC ID (vpc-...)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := listed
			in.NetworkInterfaces = append([]types.InstanceNetworkInterface(nil), listed.NetworkInterfaces...)
			if tt.edit != nil {
				tt.edit(&in)
			}
			self, err := identityFromInstance(tt.self, tt.eni, in)
			got := ""
			if err != nil {
				got = err.Error()
			} else {
				got = self.PrivateIP.String() + " " + self.VPCID + " " + self.Target.String()
			}
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestRegionWithoutMetadata(t *testing.T) {
	mdErr := errors.New("metadata placement/region: disabled")
	if r, err := regionWithoutMetadata(cloud.Instance{Region: "us-east-1"}, "eu-west-1", mdErr); r != "us-east-1" || err != nil {
		t.Errorf("the option must win: %q, %v", r, err)
	}
	if r, err := regionWithoutMetadata(cloud.Instance{}, "eu-west-1", mdErr); r != "eu-west-1" || err != nil {
		t.Errorf("the SDK's region: %q, %v", r, err)
	}
	_, err := regionWithoutMetadata(cloud.Instance{}, "", mdErr)
	want := "region is unknown: instance metadata cannot say it (metadata placement/region: disabled); expected --region or AWS_REGION"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant  %s", err, want)
	}
}
