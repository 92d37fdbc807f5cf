package aws

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/cloud"
)

func TestOptionsValidate(t *testing.T) {
	cidr := netip.MustParsePrefix("10.0.0.0/8")
	tests := []struct {
		o    Options
		want string
	}{
		{Options{Settings: cloud.Settings{Endpoint: "ftp://x"}}, `endpoint "ftp://x" is invalid: scheme must be http or https`},
		{Options{Settings: cloud.Settings{Endpoint: "http://127.0.0.1:80/path"}}, `endpoint "http://127.0.0.1:80/path" is invalid: expected a URL`},
		{Options{Settings: cloud.Settings{MetadataEndpoint: "192.0.2.254"}}, `metadata-endpoint "192.0.2.254" is invalid: expected an http:// or https:// URL`},
		{Options{Settings: cloud.Settings{Region: "us_east_1"}}, `region "us_east_1" is invalid: expected an AWS region such as us-east-1`},
		{Options{Settings: cloud.Settings{InstanceID: "bbb"}}, `instance-id "bbb" is invalid: expected an EC2 instance ID (i-...)`},
		{Options{Settings: cloud.Settings{VPCID: "vpc_1"}}, `vpc-id "vpc_1" is invalid: expected a VPC ID (vpc-...)`},
		{Options{NetworkInterfaceID: "i-123"}, `network-interface-id "i-123" is invalid: expected a network interface ID (eni-...)`},
		{Options{Settings: cloud.Settings{PrivateIP: netip.MustParseAddr("fd00::1")}}, `private-ip "fd00::1" is invalid: expected an IPv4 address`},
		{Options{Settings: cloud.Settings{RouteTables: []string{"vtb-1"}}}, `route-table "vtb-1" is invalid: expected an EC2 route table ID (rtb-...)`},
		{Options{Settings: cloud.Settings{VPCCIDRs: []netip.Prefix{netip.MustParsePrefix("fd00::/8")}}}, `vpc-cidr "fd00::/8" is invalid`},
		{Options{Settings: cloud.Settings{Cluster: "Lab"}}, `cluster-name "Lab" is invalid`},
		{Options{Settings: cloud.Settings{Cluster: "lab"}}, `cluster-cidr is missing: the aws provider needs it with cluster-name "lab"`},
		{Options{Settings: cloud.Settings{ClusterCIDR: cidr}}, `cluster-name is missing: the aws provider needs it with cluster-cidr 10.0.0.0/8`},
		{Options{Settings: cloud.Settings{Cluster: "lab", ClusterCIDR: netip.MustParsePrefix("fd00::/8")}}, `cluster-cidr "fd00::/8" is invalid`},
		{Options{RouteTableTag: true}, `route-table-tag needs cluster-name`},
		{Options{Settings: cloud.Settings{Cluster: "lab", ClusterCIDR: cidr, RouteTables: []string{"rtb-1"}}, RouteTableTag: true}, `route-table-tag and route-table [rtb-1] exclude each other`},
		{Options{MutatingRate: -1}, `mutating-rate -1 is invalid: expected calls per second > 0`},
		{Options{MutatingBurst: -5}, `mutating-burst -5 is invalid`},
		{Options{Settings: cloud.Settings{RetryTimeout: -time.Second}}, `retry-timeout -1s is invalid: expected a positive duration`},
	}
	for _, tt := range tests {
		err := tt.o.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Validate(%+v) = %v, want one line with %q", tt.o, err, tt.want)
		}
	}
	good := []Options{
		{},
		{Settings: cloud.Settings{Endpoint: "http://127.0.0.1:8080", MetadataEndpoint: "http://127.0.0.1:8080/sim/v1/instances/i-aaa"}},
		{Settings: cloud.Settings{Endpoint: "ec2.vpce.example.internal", Region: "us-gov-west-1"}}, // no scheme: HTTPS; validated, never dialled
		{Settings: cloud.Settings{InstanceID: "i-0123456789abcdef0", VPCID: "vpc-0a1b2c3d", RouteTables: []string{"rtb-0a1b2c3d4e5f60001"}}, NetworkInterfaceID: "eni-0aaaaaaaaaaaaaaaa"},
		{Settings: cloud.Settings{Cluster: "lab", ClusterCIDR: cidr}, RouteTableTag: true, MutatingRate: 2.5, MutatingBurst: 10},
	}
	for _, o := range good {
		if err := o.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v", o, err)
		}
	}
	if u, _ := parseEndpoint("ec2.example.test"); u != "https://ec2.example.test" {
		t.Errorf("no scheme must mean HTTPS, got %s", u)
	}
}

func TestDefaults(t *testing.T) {
	o := Options{}.withDefaults()
	if o.MutatingRate != 5 || o.MutatingBurst != 50 || o.RetryTimeout != cloud.DefaultRetryTimeout || o.Logger == nil || o.Observer == nil {
		t.Errorf("defaults = %+v", o)
	}
}
