package doctor

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/vpcroute/vpcroute/hostcfg"
)

// checkForward follows new connections from the cluster CIDR (other hosts'
// containers) to each local subnet through filter FORWARD the way the
// kernel does: into DOCKER-USER and on into VPCROUTE-FORWARD, where
// vpcroute accepts them. A DROP or REJECT that matches them before an
// ACCEPT does defeats vpcroute's rules; falling through to the FORWARD
// policy DROP (Docker's) is the source document's bug.
func checkForward(f Facts, sc subnetClass) Check {
	d := defForward
	if f.Host.FilterErr != "" {
		return d.warn("cannot read filter FORWARD: "+f.Host.FilterErr, "run vpcroute doctor as root on the host itself (iptables -S needs CAP_NET_ADMIN)")
	}
	if len(sc.usable) == 0 {
		return d.skip("no local subnet to forward to (see the subnets checks)")
	}
	w := walker{chains: f.Host.Filter, blocking: map[string]outcome{"DROP": outBlock, "REJECT": outBlock}}
	policy := f.Host.Filter[hostcfg.ChainForward].Policy
	var fs []finding
	var passes []string
	for _, s := range sc.usable {
		fl := flow{src: f.ClusterCIDR, srcExclude: f.Subnets.Local, dst: s, in: f.Host.Uplink.Name, out: f.Host.Bridges[s].Name}
		res := w.walk(hostcfg.ChainForward, fl)
		what := fmt.Sprintf("%s -> %s", f.ClusterCIDR, s)
		switch {
		case res.out == outBlock:
			fs = append(fs, finding{Fail,
				fmt.Sprintf("%s drops %s %s", res.by, what, beforeAccept(f, res)),
				"delete it: " + deleteCommand("filter", res.by)})
		case res.out == outPolicy && policy != "ACCEPT":
			fs = append(fs, finding{Fail,
				fmt.Sprintf("Docker's FORWARD DROP eats the traffic: %s, so %s ends at the FORWARD policy %s", missingForward(f, s), what, policy),
				forwardFix(f, s)})
		case res.out == outPolicy && f.HostConfig:
			fs = append(fs, finding{Warn,
				fmt.Sprintf("%s; only the FORWARD policy ACCEPT lets %s through, unless Docker's own rules drop it", missingForward(f, s), what),
				"run `vpcroute sync` (or start `vpcroute daemon`) to put vpcroute's FORWARD rules back"})
		case res.out == outPolicy:
			passes = append(passes, fmt.Sprintf("nothing drops %s and the FORWARD policy ACCEPT lets it through", what))
		default: // accepted
			for _, p := range res.subset {
				fs = append(fs, finding{Fail,
					fmt.Sprintf("%s drops the part of %s it matches %s", p, what, beforeAccept(f, res)),
					"delete it: " + deleteCommand("filter", p)})
			}
			for _, p := range res.partial {
				fs = append(fs, finding{Warn,
					fmt.Sprintf("%s drops part of %s before it is accepted", p, what),
					"if that is not meant, delete it: " + deleteCommand("filter", p)})
			}
			passes = append(passes, acceptedBy(res, what, policy))
		}
	}
	if len(fs) == 0 {
		return d.pass(joinCauses(passes))
	}
	return combine(d, fs, "")
}

// beforeAccept says what the blocking rule pre-empts.
func beforeAccept(f Facts, res walkResult) string {
	if f.HostConfig && hasChain(f.Host.Filter, hostcfg.ChainVPCForward) {
		return "before vpcroute's accept rules"
	}
	return "before anything accepts it"
}

// acceptedBy describes a PASS.
func acceptedBy(res walkResult, what, policy string) string {
	if res.by.chain == hostcfg.ChainVPCForward {
		return fmt.Sprintf("%s accepts %s, reached from FORWARD through DOCKER-USER with no DROP or REJECT before it (FORWARD policy %s)", res.by.short(), what, policy)
	}
	return fmt.Sprintf("%s accepts %s first (FORWARD policy %s)", res.by, what, policy)
}

// missingForward names the first missing link of FORWARD -> DOCKER-USER ->
// VPCROUTE-FORWARD -> ACCEPT cluster CIDR -> s.
func missingForward(f Facts, s netip.Prefix) string {
	if !f.HostConfig {
		return "nothing accepts it (vpcroute's rules are off: --host-config=false)"
	}
	tag := hostcfg.Tag(f.Cluster)
	filter := f.Host.Filter
	switch {
	case !hasChain(filter, hostcfg.ChainVPCForward) && !jumpsTo(filter[hostcfg.ChainDockerUser], hostcfg.ChainVPCForward, ""):
		return "vpcroute's accept rules are missing (there is no " + hostcfg.ChainVPCForward + " chain)"
	case !hasChain(filter, hostcfg.ChainDockerUser):
		return "there is no " + hostcfg.ChainDockerUser + " chain"
	case !jumpsTo(filter[hostcfg.ChainForward], hostcfg.ChainDockerUser, ""):
		return "FORWARD does not jump to " + hostcfg.ChainDockerUser
	case !jumpsTo(filter[hostcfg.ChainDockerUser], hostcfg.ChainVPCForward, tag):
		return hostcfg.ChainDockerUser + " does not jump to " + hostcfg.ChainVPCForward
	case !acceptsInto(filter[hostcfg.ChainVPCForward], f.ClusterCIDR, s, tag):
		return fmt.Sprintf("%s has no ACCEPT for %s -> %s", hostcfg.ChainVPCForward, f.ClusterCIDR, s)
	}
	return "vpcroute's accept rules are not reached"
}

// forwardFix is the fix when nothing accepts the cluster's traffic.
func forwardFix(f Facts, s netip.Prefix) string {
	if !f.HostConfig {
		return fmt.Sprintf("accept it ahead of Docker's rules: iptables -I DOCKER-USER 1 -s %s -d %s -j ACCEPT (or let vpcroute manage it: --host-config=true)", f.ClusterCIDR, s)
	}
	return "run `vpcroute sync` (or start `vpcroute daemon`) to put vpcroute's FORWARD rules back; the blunt alternative is `iptables -P FORWARD ACCEPT`"
}

// hasChain reports whether the chain was read and exists.
func hasChain(chains map[string]hostcfg.ChainRules, name string) bool {
	return chains[name].Exists
}

// jumpsTo reports whether the chain has a rule jumping to target, carrying
// tag when tag is set.
func jumpsTo(c hostcfg.ChainRules, target, tag string) bool {
	return slices.ContainsFunc(c.Rules, func(args []string) bool {
		return parseRule(args).target == target && (tag == "" || hasComment(args, tag))
	})
}

// acceptsInto reports whether the chain has vpcroute's ACCEPT src -> dst.
func acceptsInto(c hostcfg.ChainRules, src, dst netip.Prefix, tag string) bool {
	return slices.ContainsFunc(c.Rules, func(args []string) bool {
		r := parseRule(args)
		return r.target == "ACCEPT" && hasComment(args, tag) && !r.src.neg && !r.dst.neg &&
			r.src.set && r.src.p == src && r.dst.set && r.dst.p == dst
	})
}

// hasComment reports whether the rule carries the comment tag.
func hasComment(args []string, tag string) bool {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "--comment" && args[i+1] == tag {
			return true
		}
	}
	return false
}

// deleteCommand is the iptables command that deletes exactly that rule.
func deleteCommand(table string, h hop) string {
	t := ""
	if table != "filter" {
		t = "-t " + table + " "
	}
	return fmt.Sprintf("iptables %s-D %s %s", t, h.chain, hostcfg.FormatRule(h.args))
}

// joinCauses joins PASS observations.
func joinCauses(cs []string) string {
	var out []string
	for _, c := range cs {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	s := ""
	for i, c := range out {
		if i > 0 {
			s += "; "
		}
		s += c
	}
	return s
}
