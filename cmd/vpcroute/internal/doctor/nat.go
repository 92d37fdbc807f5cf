package doctor

import (
	"fmt"
	"net/netip"

	"github.com/vpcroute/vpcroute/hostcfg"
)

// checkNAT follows new connections from each local subnet to the rest of
// the cluster CIDR through nat POSTROUTING: vpcroute's jump to
// VPCROUTE-POSTROUTING must ACCEPT them before Docker's MASQUERADE for the
// subnet rewrites their source to this host's address (then the receiver
// sees the host, and its FORWARD rules keyed on container subnets do not
// match).
func checkNAT(f Facts, sc subnetClass) Check {
	d := defNAT
	if f.Host.NATErr != "" {
		return d.warn("cannot read nat POSTROUTING: "+f.Host.NATErr, "run vpcroute doctor as root on the host itself (iptables -S needs CAP_NET_ADMIN)")
	}
	if len(sc.usable) == 0 {
		return d.skip("no local subnet to exempt (see the subnets checks)")
	}
	w := walker{chains: f.Host.NAT, blocking: map[string]outcome{"MASQUERADE": outRewrite, "SNAT": outRewrite, "NETMAP": outRewrite}}
	var fs []finding
	var passes []string
	for _, s := range sc.usable {
		// The destination is the rest of the cluster: local subnets are
		// reached through their bridges, never by the uplink.
		fl := flow{src: s, dst: f.ClusterCIDR, dstExclude: f.Subnets.Local, out: f.Host.Uplink.Name}
		res := w.walk(hostcfg.ChainPostrouting, fl)
		what := fmt.Sprintf("%s -> %s", s, f.ClusterCIDR)
		// A RETURN in POSTROUTING itself ends the chain with its policy,
		// ACCEPT: no NAT, an exemption as good as an ACCEPT.
		exempt := res.out == outAccept || (res.out == outPolicy && res.by.chain != "")
		switch {
		case res.out == outRewrite:
			fs = append(fs, finding{Fail, natCause(f, s, res, what), natFix(f, s)})
		case exempt:
			for _, p := range res.subset {
				fs = append(fs, finding{Fail, fmt.Sprintf("nat %s masquerades the part of %s it matches before the exemption", p, what), natFix(f, s)})
			}
			for _, p := range res.partial {
				fs = append(fs, finding{Warn, fmt.Sprintf("nat %s rewrites part of %s before the exemption", p, what),
					"if that is not meant, delete it: " + deleteCommand("nat", p)})
			}
			by := res.by.String()
			if res.by.chain == hostcfg.ChainVPCPostrouting {
				by = res.by.short()
			}
			passes = append(passes, fmt.Sprintf("nat %s exempts %s from MASQUERADE%s", by, what, masqAfter(f, s)))
		default:
			for _, p := range res.subset {
				fs = append(fs, finding{Fail, fmt.Sprintf("nat %s masquerades the part of %s it matches, and nothing exempts it first", p, what), natFix(f, s)})
			}
			for _, p := range res.partial {
				fs = append(fs, finding{Warn, fmt.Sprintf("nat %s rewrites part of %s", p, what),
					"if that is not meant, delete it: " + deleteCommand("nat", p)})
			}
			passes = append(passes, fmt.Sprintf("no MASQUERADE or SNAT rule in nat POSTROUTING rewrites %s", what))
		}
	}
	if len(fs) == 0 {
		return d.pass(joinCauses(passes))
	}
	return combine(d, fs, "")
}

// natCause explains a source rewrite.
func natCause(f Facts, s netip.Prefix, res walkResult, what string) string {
	tag := hostcfg.Tag(f.Cluster)
	post := f.Host.NAT[hostcfg.ChainPostrouting]
	jumpAt := 0
	for i, args := range post.Rules {
		if parseRule(args).target == hostcfg.ChainVPCPostrouting && hasComment(args, tag) {
			jumpAt = i + 1
			break
		}
	}
	effect := "remote hosts see this host's address instead of the container's, and their FORWARD rules for container subnets do not match it"
	switch {
	case !f.HostConfig:
		return fmt.Sprintf("nat %s masquerades %s and nothing exempts it first: %s", res.by, what, effect)
	case jumpAt == 0:
		return fmt.Sprintf("no NAT exemption: nat POSTROUTING does not jump to %s, so nat %s masquerades %s: %s", hostcfg.ChainVPCPostrouting, res.by, what, effect)
	case res.by.chain == hostcfg.ChainPostrouting && res.by.pos < jumpAt:
		return fmt.Sprintf("nat %s masquerades %s before vpcroute's exemption (its jump is #%d): %s", res.by, what, jumpAt, effect)
	}
	return fmt.Sprintf("%s has no ACCEPT for %s, so nat %s masquerades it: %s", hostcfg.ChainVPCPostrouting, what, res.by, effect)
}

// natFix is the fix for a rewritten source.
func natFix(f Facts, s netip.Prefix) string {
	if !f.HostConfig {
		return fmt.Sprintf("exempt it ahead of Docker's MASQUERADE: iptables -t nat -I POSTROUTING 1 -s %s -d %s -j RETURN (or let vpcroute manage it: --host-config=true)", s, f.ClusterCIDR)
	}
	return "run `vpcroute sync` (or start `vpcroute daemon`): it puts the exemption back at the top of nat POSTROUTING"
}

// masqAfter names the MASQUERADE the exemption pre-empts, if any.
func masqAfter(f Facts, s netip.Prefix) string {
	fl := flow{src: s, dst: f.ClusterCIDR, dstExclude: f.Subnets.Local, out: f.Host.Uplink.Name}
	for i, args := range f.Host.NAT[hostcfg.ChainPostrouting].Rules {
		r := parseRule(args)
		if r.target == "MASQUERADE" && r.matches(fl) != matchNone {
			return fmt.Sprintf(" ahead of nat POSTROUTING #%d (%s)", i+1, hostcfg.FormatRule(args))
		}
	}
	return ""
}
