package hostcfg

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// BIPNotRunning compares the bip daemon.json sets (what `vpcroute
// allocate` wrote) with the subnets Docker runs, and returns why they
// disagree, or "" when Docker runs the bip's subnet (or no bip is set).
// They disagree after an allocation until Docker is restarted: the host's
// containers are still on the old subnet, which the cluster does not route
// to this host any more.
func BIPNotRunning(bip netip.Prefix, running []netip.Prefix) string {
	if !bip.IsValid() || slices.Contains(running, bip.Masked()) {
		return ""
	}
	names := make([]string, 0, len(running))
	for _, p := range running {
		names = append(names, p.String())
	}
	on := "no bridge subnet"
	if len(names) > 0 {
		on = strings.Join(names, ", ")
	}
	return fmt.Sprintf("daemon.json sets bip %s (subnet %s) but Docker runs %s: restart Docker to move its bridge to the allocated subnet",
		bip, bip.Masked(), on)
}
