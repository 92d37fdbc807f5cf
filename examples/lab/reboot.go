package lab

import (
	"context"
	"fmt"
	"strings"
	"time"
)

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
	if err := l.FlushIptables(ctx, h); err != nil {
		return fmt.Errorf("reboot %s: %w", h.Name, err)
	}
	for _, chain := range []string{"INPUT", "FORWARD", "OUTPUT"} {
		if _, err := l.HostExec(ctx, h, "iptables", "-w", "-P", chain, "ACCEPT"); err != nil {
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

// emptyTables is an iptables-restore input that leaves every table of save
// (iptables-save output, normalized) without rules or user chains, and
// each built-in chain with the policy save gives it.
func emptyTables(save string) string {
	var b strings.Builder
	for _, line := range strings.Split(NormalizeIptables(save), "\n") {
		switch f := strings.Fields(line); {
		case strings.HasPrefix(line, "*"), line == "COMMIT":
			b.WriteString(line + "\n")
		case strings.HasPrefix(line, ":") && len(f) == 2 && f[1] != "-": // user chains have no policy
			fmt.Fprintf(&b, "%s %s [0:0]\n", f[0], f[1])
		}
	}
	return b.String()
}

// FlushIptables empties host h's iptables as `iptables -F; iptables -X` in
// every table in use does: every rule and user chain goes, the built-in
// chains keep their policies, tables nothing used stay unloaded. One
// iptables-restore does it table by table atomically, so a daemon still
// running on the host cannot put a rule back half-way (a chain it
// re-created and jumps to again would make a separate -X fail).
func (l *Lab) FlushIptables(ctx context.Context, h *Host) error {
	save, err := l.IptablesSave(ctx, h)
	if err != nil {
		return fmt.Errorf("flush iptables on %s: %w", h.Name, err)
	}
	_, err = run(ctx, cmdSpec{name: "nsenter", args: []string{"--net=" + nsPath(h.Netns), "--", "iptables-restore", "-w"},
		stdin: strings.NewReader(emptyTables(save)), timeout: l.cfg.StepTimeout})
	if err != nil {
		return fmt.Errorf("flush iptables on %s: %w", h.Name, err)
	}
	return nil
}
