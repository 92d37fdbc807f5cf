package hostcfg

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/network"
)

func TestBridgeSubnets(t *testing.T) {
	tests := []struct {
		name string
		json string
		want string // space-separated prefixes, or the error substring after "error: "
	}{
		{
			name: "default bridge from dockerd 20.10 with --bip 10.0.0.1/24",
			json: `{"Name":"bridge","Driver":"bridge","EnableIPv6":false,"IPAM":{"Driver":"default","Options":null,"Config":[{"Subnet":"10.0.0.0/24","Gateway":"10.0.0.1"}]},"Options":{"com.docker.network.bridge.default_bridge":"true","com.docker.network.bridge.name":"docker0"}}`,
			want: "10.0.0.0/24",
		},
		{
			name: "user network created with --subnet",
			json: `{"Name":"n1","Driver":"bridge","IPAM":{"Driver":"default","Options":{},"Config":[{"Subnet":"10.9.0.0/24"}]}}`,
			want: "10.9.0.0/24",
		},
		{
			name: "subnet reported as the bip with host bits",
			json: `{"Name":"bridge","Driver":"bridge","IPAM":{"Config":[{"Subnet":"10.0.0.1/24","Gateway":"10.0.0.1"}]}}`,
			want: "10.0.0.0/24",
		},
		{
			name: "dual stack keeps IPv4 only",
			json: `{"Name":"ds","Driver":"bridge","EnableIPv6":true,"IPAM":{"Config":[{"Subnet":"fd00:1::/64"},{"Subnet":"10.3.0.0/24"},{"Subnet":"10.2.0.0/24"}]}}`,
			want: "10.2.0.0/24 10.3.0.0/24",
		},
		{
			name: "IPv6 only",
			json: `{"Name":"v6","Driver":"bridge","IPAM":{"Config":[{"Subnet":"fd00:1::/64"}]}}`,
			want: `error: docker network "v6" has no IPv4 subnet`,
		},
		{
			name: "no IPAM config",
			json: `{"Name":"empty","Driver":"bridge","IPAM":{"Config":[]}}`,
			want: `error: docker network "empty" has no IPv4 subnet`,
		},
		{
			name: "overlay network",
			json: `{"Name":"ov","Driver":"overlay","IPAM":{"Config":[{"Subnet":"10.5.0.0/24"}]}}`,
			want: `error: docker network "ov" uses driver "overlay"; expected a bridge network`,
		},
		{
			name: "host network",
			json: `{"Name":"host","Driver":"host","IPAM":{"Config":[]}}`,
			want: `error: docker network "host" uses driver "host"`,
		},
		{
			name: "garbage subnet",
			json: `{"Name":"bad","Driver":"bridge","IPAM":{"Config":[{"Subnet":"10.0.0.0"}]}}`,
			want: `error: docker network "bad": IPAM.Config[0].Subnet = "10.0.0.0" is not a CIDR prefix`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var nw network.Inspect
			if err := json.Unmarshal([]byte(tt.json), &nw); err != nil {
				t.Fatal(err)
			}
			got, err := bridgeSubnets(nw)
			if want, ok := strings.CutPrefix(tt.want, "error: "); ok {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("bridgeSubnets() = %v, %v; want error containing %q", got, err, want)
				}
				return
			}
			if err != nil {
				t.Fatalf("bridgeSubnets() error = %v", err)
			}
			if s := prefixesString(got); s != tt.want {
				t.Errorf("bridgeSubnets() = %s, want %s", s, tt.want)
			}
		})
	}
}
