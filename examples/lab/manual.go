package lab

import (
	"context"
	"fmt"
)

// ManualStep is one of the hand-made fixes of the source document and
// lab.md. They exist to test the lab itself (its checks must tell a broken
// data path from a working one), not to replace vpcroute.
type ManualStep int

// Manual steps, in the order lab.md found them necessary.
const (
	// ManualRoutes puts "subnet via host" kernel routes in the router, as
	// the VPC route entries would.
	ManualRoutes ManualStep = iota
	// ManualForward accepts forwarding into each host's subnet from the
	// cluster CIDR and the VPC CIDR in DOCKER-USER (Docker's FORWARD policy
	// is DROP).
	ManualForward
	// ManualNATExempt exempts container-to-cluster traffic from Docker's
	// MASQUERADE, so receivers see container addresses.
	ManualNATExempt
)

// ApplyManual applies the given steps on the router and every host.
func (l *Lab) ApplyManual(ctx context.Context, steps ...ManualStep) error {
	for _, s := range steps {
		for _, h := range l.hostList() {
			var err error
			switch s {
			case ManualRoutes:
				err = l.ip(ctx, "-n", l.Router, "route", "replace", h.Subnet.String(), "via", h.IP.String())
			case ManualForward:
				for _, src := range []string{ClusterCIDR, VPCCIDR} {
					if _, e := l.HostExec(ctx, h, "iptables", "-I", "DOCKER-USER", "-s", src, "-d", h.Subnet.String(), "-j", "ACCEPT"); e != nil {
						err = e
						break
					}
				}
			case ManualNATExempt:
				_, err = l.HostExec(ctx, h, "iptables", "-t", "nat", "-I", "POSTROUTING", "-s", h.Subnet.String(), "-d", ClusterCIDR, "-j", "RETURN")
			default:
				err = fmt.Errorf("unknown step %d", s)
			}
			if err != nil {
				return fmt.Errorf("manual step %d on %s: %w", s, h.Name, err)
			}
		}
	}
	return nil
}
