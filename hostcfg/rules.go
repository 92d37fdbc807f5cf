package hostcfg

import (
	"net/netip"
)

// Chains and tables vpcroute uses. The two VPCROUTE-* chains are its own;
// DOCKER-USER is Docker's hook for user rules, which Docker never flushes.
const (
	// TableFilter holds the forwarding rules.
	TableFilter = "filter"
	// TableNAT holds the MASQUERADE exemption.
	TableNAT = "nat"

	// ChainForward is the built-in filter chain forwarded packets traverse.
	ChainForward = "FORWARD"
	// ChainPostrouting is the built-in nat chain where Docker masquerades.
	ChainPostrouting = "POSTROUTING"
	// ChainDockerUser is Docker's chain for user rules, jumped from the top
	// of FORWARD.
	ChainDockerUser = "DOCKER-USER"

	// ChainVPCForward holds the filter rules that let cluster and VPC
	// traffic reach local containers; DOCKER-USER jumps to it.
	ChainVPCForward = "VPCROUTE-FORWARD"
	// ChainVPCPostrouting holds the MASQUERADE exemptions; it is jumped to
	// from the top of nat POSTROUTING, ahead of Docker's MASQUERADE.
	ChainVPCPostrouting = "VPCROUTE-POSTROUTING"
)

// Tag is the comment carried by every rule vpcroute writes for cluster. It
// is the proof of ownership: rules without it are never changed.
func Tag(cluster string) string { return "vpcroute:" + cluster }

// spec is a rule's arguments as `iptables -S CHAIN` prints them after
// "-A CHAIN", one token per element, quotes removed. Desired rules are built
// in exactly that canonical order so they compare equal to what iptables
// reports back.
type spec []string

// commentArgs marks a rule as owned by tag.
func commentArgs(tag string) []string {
	return []string{"-m", "comment", "--comment", tag}
}

// jumpSpec is an owned, unconditional jump to target.
func jumpSpec(tag, target string) spec {
	return append(commentArgs(tag), "-j", target)
}

// ruleSet is every rule vpcroute wants for one set of options.
type ruleSet struct {
	tag string
	// forward is the content of VPCROUTE-FORWARD, in order.
	forward []spec
	// nat is the content of VPCROUTE-POSTROUTING, in order.
	nat []spec
}

// desiredRules computes the rules for opts, which must be valid and have
// gone through withDefaults (sorted, unique subnets and VPC CIDRs).
//
// VPCROUTE-FORWARD first RETURNs traffic coming from a local subnet: that
// traffic is Docker's business (it accepts container egress itself) and
// accepting it here would bypass Docker's isolation between two local
// bridge networks, since both lie inside the cluster CIDR. Then, for each
// local subnet S, it accepts S as destination from the cluster CIDR (remote
// containers, sources kept by the NAT exemption) and from each VPC CIDR
// (remote hosts). Replies need no rule: Docker accepts ESTABLISHED,RELATED
// traffic into its bridges.
//
// VPCROUTE-POSTROUTING ACCEPTs S -> cluster CIDR so that Docker's MASQUERADE,
// later in POSTROUTING, never sees it. ACCEPT, not RETURN: a RETURN would
// only go back to POSTROUTING and reach MASQUERADE anyway.
func desiredRules(opts Options) ruleSet {
	tag := Tag(opts.Cluster)
	sources := sortedUnique(append([]netip.Prefix{opts.ClusterCIDR}, opts.VPCCIDRs...))
	rs := ruleSet{tag: tag}
	for _, s := range opts.Subnets {
		rs.forward = append(rs.forward, ruleFrom(s, netip.Prefix{}, tag, "RETURN"))
	}
	for _, s := range opts.Subnets {
		for _, src := range sources {
			rs.forward = append(rs.forward, ruleFrom(src, s, tag, "ACCEPT"))
		}
	}
	for _, s := range opts.Subnets {
		rs.nat = append(rs.nat, ruleFrom(s, opts.ClusterCIDR, tag, "ACCEPT"))
	}
	return rs
}

// ruleFrom builds "-s src [-d dst] -m comment --comment tag -j target", the
// order in which iptables prints these matches back.
func ruleFrom(src, dst netip.Prefix, tag, target string) spec {
	r := spec{"-s", src.String()}
	if dst.IsValid() {
		r = append(r, "-d", dst.String())
	}
	r = append(r, commentArgs(tag)...)
	return append(r, "-j", target)
}
