package lab

import (
	"context"
	"fmt"
	"time"
)

// iptablesTables are the tables a reboot empties (the kernel boots with
// none of the rules, chains or policies set before).
var iptablesTables = []string{"filter", "nat", "mangle", "raw"}

// RebootHost does to host h what a reboot does to its network state, with
// its daemon already stopped by the caller: dockerd stops (the container
// with it), every iptables rule and chain of the host's namespace goes and
// the policies are ACCEPT again, ip_forward is 0; then dockerd starts as at
// boot, writes its own rules again and brings the container back
// (--restart always). The namespace, its address and the VPC's routes stay,
// as the instance's do across a reboot.
func (l *Lab) RebootHost(ctx context.Context, h *Host) error {
	if h.runningDaemon() != nil {
		return fmt.Errorf("reboot %s: stop its daemon first", h.Name)
	}
	l.log.Info("rebooting host", zapHost(h))
	if err := l.stopDockerd(h, 20*time.Second); err != nil {
		return fmt.Errorf("reboot %s: %w", h.Name, err)
	}
	for _, table := range iptablesTables {
		for _, op := range [][]string{{"-F"}, {"-X"}} {
			if _, err := l.HostExec(ctx, h, append([]string{"iptables", "-t", table}, op...)...); err != nil {
				return fmt.Errorf("reboot %s: iptables -t %s %s: %w", h.Name, table, op[0], err)
			}
		}
	}
	for _, chain := range []string{"INPUT", "FORWARD", "OUTPUT"} {
		if _, err := l.HostExec(ctx, h, "iptables", "-P", chain, "ACCEPT"); err != nil {
			return fmt.Errorf("reboot %s: iptables -P %s ACCEPT: %w", h.Name, chain, err)
		}
	}
	if err := l.sysctl(ctx, h.Netns, "net.ipv4.ip_forward=0"); err != nil {
		return fmt.Errorf("reboot %s: ip_forward=0: %w", h.Name, err)
	}
	if err := l.startDockerd(ctx, h); err != nil {
		return fmt.Errorf("reboot %s: %w", h.Name, err)
	}
	if err := l.waitContainer(ctx, h); err != nil {
		return fmt.Errorf("reboot %s: %w", h.Name, err)
	}
	return nil
}
