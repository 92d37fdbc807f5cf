package doctor

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/vishvananda/netlink"

	"github.com/vpcroute/vpcroute/hostcfg"
)

// gatherHost reads, in the network namespace the process runs in, the
// forwarding sysctls, the uplink (the default route's interface), the
// interface holding each local subnet, the return routes to sample remote
// sources and vpcroute's iptables chains with what surrounds them.
func gatherHost(ctx context.Context, procSys string, local []netip.Prefix, sources []netip.Addr) HostFacts {
	if procSys == "" {
		procSys = hostcfg.DefaultProcSys
	}
	h := HostFacts{
		IPForward:   readSysctl(procSys, "net", "ipv4", "ip_forward"),
		RPFilterAll: readSysctl(procSys, "net", "ipv4", "conf", "all", "rp_filter"),
		Bridges:     map[netip.Prefix]Iface{},
	}
	iface := func(name string) Iface {
		return Iface{Name: name,
			Forwarding: readSysctl(procSys, "net", "ipv4", "conf", name, "forwarding"),
			RPFilter:   readSysctl(procSys, "net", "ipv4", "conf", name, "rp_filter")}
	}
	if name, err := uplink(); err != nil {
		h.UplinkErr = err.Error()
	} else {
		h.Uplink = iface(name)
	}
	holders, err := subnetHolders(local)
	if err != nil {
		h.BridgesErr = err.Error()
	}
	for s, name := range holders {
		h.Bridges[s] = iface(name)
	}
	for _, a := range sources {
		h.ReturnRoutes = append(h.ReturnRoutes, returnRoute(a))
	}
	var ferr, nerr error
	h.Filter, ferr = hostcfg.ReadChains(ctx, hostcfg.TableFilter, hostcfg.ChainForward, hostcfg.ChainDockerUser, hostcfg.ChainVPCForward)
	if ferr != nil {
		h.FilterErr = oneLine(ferr)
	}
	h.NAT, nerr = hostcfg.ReadChains(ctx, hostcfg.TableNAT, hostcfg.ChainPostrouting, hostcfg.ChainVPCPostrouting)
	if nerr != nil {
		h.NATErr = oneLine(nerr)
	}
	return h
}

// readSysctl reads one sysctl by path elements (interface names may hold
// dots, so the dotted name cannot be split back).
func readSysctl(procSys string, parts ...string) Sysctl {
	s := Sysctl{Name: strings.Join(parts, ".")}
	b, err := os.ReadFile(filepath.Join(append([]string{procSys}, parts...)...))
	if err != nil {
		s.Err = oneLine(err)
		return s
	}
	s.Value = strings.TrimSpace(string(b))
	return s
}

// uplink returns the interface of the main table's default route with the
// lowest metric.
func uplink() (string, error) {
	routes, err := netlink.RouteList(nil, netlink.FAMILY_V4)
	if err != nil {
		return "", fmt.Errorf("list routes: %w", err)
	}
	best, found := netlink.Route{}, false
	for _, r := range routes {
		isDefault := r.Dst == nil || (r.Dst.IP.IsUnspecified() && maskBits(r.Dst) == 0)
		if !isDefault || (r.Table != 0 && r.Table != 254) || r.LinkIndex == 0 {
			continue
		}
		if !found || r.Priority < best.Priority {
			best, found = r, true
		}
	}
	if !found {
		return "", fmt.Errorf("no IPv4 default route")
	}
	link, err := netlink.LinkByIndex(best.LinkIndex)
	if err != nil {
		return "", fmt.Errorf("default route's interface %d: %w", best.LinkIndex, err)
	}
	return link.Attrs().Name, nil
}

// maskBits is the prefix length of n.
func maskBits(n *net.IPNet) int {
	ones, _ := n.Mask.Size()
	return ones
}

// subnetHolders maps each local subnet to the interface with an IPv4
// address inside it (Docker's bridge holds the bip).
func subnetHolders(local []netip.Prefix) (map[netip.Prefix]string, error) {
	out := map[netip.Prefix]string{}
	addrs, err := netlink.AddrList(nil, netlink.FAMILY_V4)
	if err != nil {
		return out, fmt.Errorf("list addresses: %w", err)
	}
	for _, a := range addrs {
		ip, ok := netip.AddrFromSlice(a.IP.To4())
		if !ok {
			continue
		}
		for _, s := range local {
			if !s.Contains(ip) || out[s] != "" {
				continue
			}
			if link, err := netlink.LinkByIndex(a.LinkIndex); err == nil {
				out[s] = link.Attrs().Name
			}
		}
	}
	return out, nil
}

// returnRoute looks up the route to a remote source: strict rp_filter
// drops its packets unless that route leaves by the interface they came in.
func returnRoute(a netip.Addr) ReturnRoute {
	rr := ReturnRoute{Source: a}
	routes, err := netlink.RouteGet(net.IP(a.AsSlice()))
	if err != nil {
		rr.Err = oneLine(err)
		return rr
	}
	if len(routes) == 0 || routes[0].LinkIndex == 0 {
		rr.Err = "no route"
		return rr
	}
	link, err := netlink.LinkByIndex(routes[0].LinkIndex)
	if err != nil {
		rr.Err = oneLine(err)
		return rr
	}
	rr.Iface = link.Attrs().Name
	return rr
}
