package lab

import (
	"context"
	"fmt"
	"net/netip"
)

// Names inside the namespaces. They cannot clash with the root namespace's
// interfaces: every link is created directly inside a lab namespace.
const (
	bridgeName = "vsw"
	hostIface  = "eth0"
)

// ip runs the ip tool with a step timeout.
func (l *Lab) ip(ctx context.Context, args ...string) error {
	_, err := run(ctx, cmdSpec{name: "ip", args: args, timeout: l.cfg.StepTimeout})
	return err
}

// sysctl sets kernel parameters inside netns. `ip netns exec` gives the
// command a private /sys and /proc/sys/net of that namespace, so the root
// namespace's values are never touched.
func (l *Lab) sysctl(ctx context.Context, netns string, kv ...string) error {
	args := append([]string{"netns", "exec", netns, "sysctl", "-q", "-w"}, kv...)
	_, err := run(ctx, cmdSpec{name: "ip", args: args, timeout: l.cfg.StepTimeout})
	return err
}

// addNetns creates a named namespace with loopback up and records it for
// teardown (the sweep finds it by the run id prefix anyway).
func (l *Lab) addNetns(ctx context.Context, name string) error {
	if err := l.ip(ctx, "netns", "add", name); err != nil {
		return fmt.Errorf("create netns %s: %w", name, err)
	}
	if err := l.ip(ctx, "-n", name, "link", "set", "lo", "up"); err != nil {
		return fmt.Errorf("loopback up in %s: %w", name, err)
	}
	return nil
}

// routerMAC is the vswitch bridge's fixed address (locally administered,
// ending in the router's 192.168.1.253). A Linux bridge without one takes
// the lowest MAC of its ports and changes it when that port goes: every
// host's ARP entry for the router would then point at a MAC that no longer
// exists, and all traffic through the router would stop for as long as
// those entries live, as soon as RemoveHost takes out the host whose port
// had the lowest MAC.
const routerMAC = "02:00:c0:a8:01:fd"

// setupRouter builds the VPC router: a bridge as the vswitch carrying the
// router's address, forwarding on, and ICMP redirects off so that hosts keep
// sending container traffic through the router, as a real VPC does.
func (l *Lab) setupRouter(ctx context.Context) error {
	r := l.Router
	if err := l.addNetns(ctx, r); err != nil {
		return err
	}
	steps := [][]string{
		{"-n", r, "link", "add", bridgeName, "address", routerMAC, "type", "bridge"},
		{"-n", r, "addr", "add", RouterIP + "/24", "dev", bridgeName},
		{"-n", r, "link", "set", bridgeName, "up"},
	}
	for _, s := range steps {
		if err := l.ip(ctx, s...); err != nil {
			return fmt.Errorf("router %s: %w", r, err)
		}
	}
	if err := l.sysctl(ctx, r,
		"net.ipv4.ip_forward=1",
		"net.ipv4.conf.all.send_redirects=0",
		"net.ipv4.conf."+bridgeName+".send_redirects=0",
	); err != nil {
		return fmt.Errorf("router %s sysctls: %w", r, err)
	}
	return nil
}

// setupHostNetns creates host h's namespace and plugs it into the vswitch.
// The veth pair is created inside the router namespace with its peer placed
// straight into the host namespace, so neither end ever exists in the root
// namespace.
func (l *Lab) setupHostNetns(ctx context.Context, h *Host) error {
	if err := l.addNetns(ctx, h.Netns); err != nil {
		return err
	}
	port := fmt.Sprintf("h%d", h.Index)
	r := l.Router
	steps := [][]string{
		{"-n", r, "link", "add", port, "type", "veth", "peer", "name", hostIface, "netns", h.Netns},
		{"-n", r, "link", "set", port, "master", bridgeName, "up"},
		{"-n", h.Netns, "addr", "add", netip.PrefixFrom(h.IP, vswitchBits).String(), "dev", hostIface},
		{"-n", h.Netns, "link", "set", hostIface, "up"},
		{"-n", h.Netns, "route", "add", "default", "via", RouterIP},
	}
	for _, s := range steps {
		if err := l.ip(ctx, s...); err != nil {
			return fmt.Errorf("wire %s: %w", h.Name, err)
		}
	}
	return nil
}

// RouterRoutes returns the router namespace's IPv4 routing table: the lab's
// stand-in for the VPC route table as the data path sees it.
func (l *Lab) RouterRoutes(ctx context.Context) (string, error) {
	out, err := run(ctx, cmdSpec{name: "ip", args: []string{"-4", "-n", l.Router, "route", "show"}, timeout: l.cfg.StepTimeout})
	if err != nil {
		return "", fmt.Errorf("router routes: %w", err)
	}
	return out, nil
}

// HostExec runs a command inside host h's network namespace (and only that:
// `nsenter --net` keeps the root mount namespace, which dockerd needs) and
// returns its stdout.
func (l *Lab) HostExec(ctx context.Context, h *Host, args ...string) (string, error) {
	if len(args) == 0 {
		return "", fmt.Errorf("host exec on %s: no command", h.Name)
	}
	full := append([]string{"--net=" + nsPath(h.Netns), "--"}, args...)
	return run(ctx, cmdSpec{name: "nsenter", args: full, timeout: l.cfg.StepTimeout})
}
