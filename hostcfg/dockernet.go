package hostcfg

import (
	"fmt"
	"net/netip"

	"github.com/docker/docker/api/types/network"
)

// DefaultBridge is the name of Docker's default network, whose subnet is
// the daemon's bip.
const DefaultBridge = "bridge"

// bridgeSubnets extracts the IPv4 subnets of a bridge network from Docker's
// network inspect answer. It is pure so that it can be tested against the
// JSON real daemons return. Docker may report the subnet with host bits set
// (the bip itself, e.g. 10.0.0.1/24, on some versions); the network address
// is what routes and rules need, so the prefix is masked.
func bridgeSubnets(nw network.Inspect) ([]netip.Prefix, error) {
	if nw.Driver != "bridge" {
		return nil, fmt.Errorf("docker network %q uses driver %q; expected a bridge network", nw.Name, nw.Driver)
	}
	var out []netip.Prefix
	for i, c := range nw.IPAM.Config {
		if c.Subnet == "" {
			continue
		}
		p, err := netip.ParsePrefix(c.Subnet)
		if err != nil {
			return nil, fmt.Errorf("docker network %q: IPAM.Config[%d].Subnet = %q is not a CIDR prefix", nw.Name, i, c.Subnet)
		}
		if !p.Addr().Is4() {
			continue
		}
		out = append(out, p.Masked())
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("docker network %q has no IPv4 subnet in its IPAM config; expected one such as 10.0.0.0/24", nw.Name)
	}
	return sortedUnique(out), nil
}
