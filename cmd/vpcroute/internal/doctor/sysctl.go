package doctor

import (
	"fmt"
	"strconv"
	"strings"
)

// checkIPForward: the kernel forwards IPv4 at all.
func checkIPForward(f Facts) Check {
	d := defIPForward
	v := f.Host.IPForward
	switch {
	case v.Err != "":
		return d.warn("cannot read net.ipv4.ip_forward: "+v.Err, "run vpcroute doctor on the host itself, as root")
	case v.Value == "1":
		return d.pass("net.ipv4.ip_forward = 1")
	}
	fix := "sysctl -w net.ipv4.ip_forward=1, and persist it as net.ipv4.ip_forward = 1 in /etc/sysctl.d/99-vpcroute.conf"
	if f.HostConfig {
		fix = "run `vpcroute sync` (the daemon also sets it within its host check); by hand: " + fix
	}
	return d.fail(fmt.Sprintf("net.ipv4.ip_forward = %s: the kernel forwards nothing between the VPC and the containers", v.Value), fix)
}

// checkIfForwarding: forwarding is on for the interfaces the traffic
// crosses, the uplink and each local subnet's bridge.
func checkIfForwarding(f Facts, sc subnetClass) Check {
	d := defIfForwarding
	if f.Host.IPForward.Err != "" {
		return d.skip("net.ipv4.ip_forward is unknown (see sysctl.ip-forward)")
	}
	if f.Host.IPForward.Value != "1" {
		return d.skip("net.ipv4.ip_forward is not on (see sysctl.ip-forward); turning it on turns forwarding on for every interface")
	}
	var fs []finding
	var seen []string
	look := func(role string, ifc Iface) {
		seen = append(seen, fmt.Sprintf("%s (%s)", ifc.Name, role))
		v := ifc.Forwarding
		switch {
		case v.Err != "":
			fs = append(fs, finding{Warn, "cannot read " + v.Name + ": " + v.Err, "run vpcroute doctor on the host itself, as root"})
		case v.Value != "1":
			fs = append(fs, finding{Fail, fmt.Sprintf("forwarding is off on %s, the %s (%s = %s)", ifc.Name, role, v.Name, v.Value),
				fmt.Sprintf("sysctl -w %s=1", v.Name)})
		}
	}
	if f.Host.UplinkErr != "" {
		fs = append(fs, finding{Warn, "the uplink is unknown: " + f.Host.UplinkErr, "check the host's default route (ip -4 route show default)"})
	} else {
		look("uplink", f.Host.Uplink)
	}
	if f.Host.BridgesErr != "" {
		fs = append(fs, finding{Warn, "the bridges are unknown: " + f.Host.BridgesErr, "run vpcroute doctor on the host itself, as root"})
	}
	for _, s := range sc.usable {
		b := f.Host.Bridges[s]
		if f.Host.BridgesErr != "" {
			continue
		}
		if b.Name == "" {
			fs = append(fs, finding{Warn, fmt.Sprintf("no interface holds an address in %s: nothing on this host delivers it to containers", s),
				fmt.Sprintf("check that the Docker bridge for %s is up (ip -4 addr; docker network ls)", s)})
			continue
		}
		look("bridge of "+s.String(), b)
	}
	return combine(d, fs, "forwarding on "+strings.Join(seen, ", "))
}

// checkRPFilter: strict reverse-path filtering on the uplink drops a packet
// when the route back to its source leaves by another interface. The
// kernel applies the larger of conf.all and conf.<uplink>.
func checkRPFilter(f Facts) Check {
	d := defRPFilter
	if f.Host.UplinkErr != "" {
		return d.skip("the uplink is unknown (see sysctl.forwarding)")
	}
	up := f.Host.Uplink
	all, ifc := f.Host.RPFilterAll, up.RPFilter
	for _, v := range []Sysctl{all, ifc} {
		if v.Err != "" {
			return d.warn("cannot read "+v.Name+": "+v.Err, "run vpcroute doctor on the host itself, as root")
		}
	}
	a, errA := strconv.Atoi(all.Value)
	b, errB := strconv.Atoi(ifc.Value)
	if errA != nil || errB != nil {
		return d.warn(fmt.Sprintf("unexpected rp_filter values: %s = %q, %s = %q", all.Name, all.Value, ifc.Name, ifc.Value), "check them with sysctl -a | grep rp_filter")
	}
	eff := max(a, b)
	mode := fmt.Sprintf("rp_filter on %s is %d (the larger of all = %d and %s = %d)", up.Name, eff, a, up.Name, b)
	if eff != 1 {
		word := "off"
		if eff == 2 {
			word = "loose: any routable source passes"
		}
		return d.pass(mode + ": " + word)
	}
	var fs []finding
	var fine []string
	fix := fmt.Sprintf("loosen it: sysctl -w net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.%s.rp_filter=2 (or make the route back to those sources leave by %s)", up.Name, up.Name)
	for _, r := range f.Host.ReturnRoutes {
		switch {
		case r.Err != "":
			fs = append(fs, finding{Warn, fmt.Sprintf("strict %s, and there is no route back to %s (%s): its packets are dropped", mode, r.Source, r.Err), fix})
		case r.Iface != up.Name:
			fs = append(fs, finding{Warn, fmt.Sprintf("strict %s drops packets from %s: the route back to it leaves by %s, not %s", mode, r.Source, r.Iface, up.Name), fix})
		default:
			fine = append(fine, r.Source.String())
		}
	}
	return combine(d, fs, fmt.Sprintf("strict %s, but the route back to remote containers (%s) leaves by %s: nothing is dropped", mode, strings.Join(fine, ", "), up.Name))
}
