package cloud_test

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/cloud"
)

func TestSettingsValidateNamesTheFlag(t *testing.T) {
	tests := []struct {
		name string
		s    cloud.Settings
		want string // the whole error; "" for valid
	}{
		{"zero", cloud.Settings{}, ""},
		{"simulator", cloud.Settings{Endpoint: "http://127.0.0.1:8080", MetadataEndpoint: "http://127.0.0.1:8080/sim/v1/instances/i-aaa"}, ""},
		{"no scheme", cloud.Settings{Endpoint: "api.example.test"}, ""},
		{"trailing slash", cloud.Settings{Endpoint: "https://api.example.test/"}, ""},
		{"full", cloud.Settings{PrivateIP: netip.MustParseAddr("10.1.2.3"), VPCCIDRs: []netip.Prefix{netip.MustParsePrefix("172.31.0.0/16")},
			Cluster: "lab", ClusterCIDR: netip.MustParsePrefix("10.0.0.0/8"), RetryTimeout: time.Second}, ""},
		{"endpoint scheme", cloud.Settings{Endpoint: "ftp://x"}, `endpoint "ftp://x" is invalid: scheme must be http or https`},
		{"endpoint path", cloud.Settings{Endpoint: "http://127.0.0.1:80/path"},
			`endpoint "http://127.0.0.1:80/path" is invalid: expected a URL of a scheme and a host only, such as https://api.example.com or http://127.0.0.1:8080`},
		{"endpoint query", cloud.Settings{Endpoint: "http://127.0.0.1:80?a=b"}, `endpoint "http://127.0.0.1:80?a=b" is invalid: expected a URL of a scheme and a host only`},
		{"metadata no scheme", cloud.Settings{MetadataEndpoint: "192.0.2.254"},
			`metadata-endpoint "192.0.2.254" is invalid: expected an http:// or https:// URL without a query, such as http://127.0.0.1:8080/latest`},
		{"metadata query", cloud.Settings{MetadataEndpoint: "http://127.0.0.1:1/?token=x"}, `metadata-endpoint "http://127.0.0.1:1/?token=x" is invalid`},
		{"private ip", cloud.Settings{PrivateIP: netip.MustParseAddr("fd00::1")}, `private-ip "fd00::1" is invalid: expected an IPv4 address`},
		{"vpc cidr", cloud.Settings{VPCCIDRs: []netip.Prefix{netip.MustParsePrefix("fd00::/8")}}, `vpc-cidr "fd00::/8" is invalid: expected an IPv4 CIDR such as 172.31.0.0/16`},
		{"cluster", cloud.Settings{Cluster: "Lab"}, `cluster-name "Lab" is invalid: expected 1-40 lowercase letters`},
		{"cluster cidr", cloud.Settings{ClusterCIDR: netip.MustParsePrefix("fd00::/8")}, `cluster-cidr "fd00::/8" is invalid: expected an IPv4 CIDR such as 10.0.0.0/8`},
		{"retry", cloud.Settings{RetryTimeout: -time.Second}, `cloud-retry-timeout -1s is invalid: expected a positive duration`},
	}
	for _, tt := range tests {
		err := tt.s.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: Validate = %v, want nil", tt.name, err)
		case tt.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.want) || strings.Contains(err.Error(), "\n")):
			t.Errorf("%s: Validate = %v, want one line starting %q", tt.name, err, tt.want)
		}
	}
}

func TestParseEndpointKeepsSchemeAndHost(t *testing.T) {
	tests := map[string]string{
		"api.example.test":           "https://api.example.test",
		"http://127.0.0.1:8080":      "http://127.0.0.1:8080",
		"https://api.example.test/":  "https://api.example.test",
		"https://api.example.test:9": "https://api.example.test:9",
	}
	for in, want := range tests {
		u, err := cloud.ParseEndpoint(in)
		if err != nil || u.String() != want {
			t.Errorf("ParseEndpoint(%q) = %v, %v; want %s", in, u, err, want)
		}
	}
}

func TestWithDefaultsFillsOnlyZeroes(t *testing.T) {
	d := cloud.Settings{}.WithDefaults()
	if d.RetryTimeout != cloud.DefaultRetryTimeout || d.Logger == nil || d.Observer == nil {
		t.Errorf("defaults = %+v", d)
	}
	obs := cloud.NopObserver{}
	given := cloud.Settings{RetryTimeout: time.Second, Observer: obs, Cluster: "lab"}.WithDefaults()
	if given.RetryTimeout != time.Second || given.Cluster != "lab" || given.Observer != obs {
		t.Errorf("given values changed: %+v", given)
	}
}

func TestValidateIDsUsesTheProvidersFormats(t *testing.T) {
	f := cloud.IDFormats{
		Instance:   cloud.IDFormat{Flag: "instance-id", Prefix: "i-", What: "an instance ID (i-...)"},
		VPC:        cloud.IDFormat{Flag: "vpc-id", Prefix: "vpc-", What: "a VPC ID (vpc-...)"},
		RouteTable: cloud.IDFormat{Flag: "route-table", Prefix: "tbl-", What: "a table ID (tbl-...)"},
	}
	tests := []struct {
		s    cloud.Settings
		want string
	}{
		{cloud.Settings{}, ""},
		{cloud.Settings{InstanceID: "i-0abc", VPCID: "vpc-lab", RouteTables: []string{"tbl-1", "tbl-2"}}, ""},
		{cloud.Settings{InstanceID: "bbb"}, `instance-id "bbb" is invalid: expected an instance ID (i-...)`},
		{cloud.Settings{InstanceID: "i-"}, `instance-id "i-" is invalid`},
		{cloud.Settings{InstanceID: "i-ABC"}, `instance-id "i-ABC" is invalid`},
		{cloud.Settings{InstanceID: "i-" + strings.Repeat("a", 41)}, `instance-id "i-aaaa`},
		{cloud.Settings{VPCID: "vpc_1"}, `vpc-id "vpc_1" is invalid: expected a VPC ID (vpc-...)`},
		{cloud.Settings{RouteTables: []string{"tbl-1", "rtb-1"}}, `route-table "rtb-1" is invalid: expected a table ID (tbl-...)`},
		{cloud.Settings{RouteTables: []string{""}}, `route-table "" is invalid`},
	}
	for _, tt := range tests {
		err := tt.s.ValidateIDs(f)
		if (tt.want == "") != (err == nil) || (err != nil && !strings.HasPrefix(err.Error(), tt.want)) {
			t.Errorf("ValidateIDs(%+v) = %v, want %q", tt.s, err, tt.want)
		}
	}
}
