package doctor

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/hostcfg"
)

// subnetClass sorts the local subnets by what the subnet checks found, so
// that one cause is reported once: a subnet refused for overlapping the VPC
// is not also reported by the checks that come after.
type subnetClass struct {
	// overlap and outside are refused subnets with their reason.
	overlap map[netip.Prefix]string
	outside map[netip.Prefix]string
	// colliding are subnets that overlap another host's claim.
	colliding map[netip.Prefix][]Claim
	// usable are the subnets the host checks look at (not refused);
	// routable those the route checks look at (not colliding either).
	usable, routable []netip.Prefix
}

// classify computes the subnet classes from the facts.
func classify(f Facts) subnetClass {
	sc := subnetClass{overlap: map[netip.Prefix]string{}, outside: map[netip.Prefix]string{}, colliding: map[netip.Prefix][]Claim{}}
	cloudOK := f.Cloud.Err == ""
	for _, s := range f.Subnets.Local {
		if reason := overlapReason(f, s); cloudOK && reason != "" {
			sc.overlap[s] = reason
			continue
		}
		if !cloud.PrefixContains(f.ClusterCIDR, s) {
			sc.outside[s] = fmt.Sprintf("%s is outside the cluster CIDR %s", s, f.ClusterCIDR)
			continue
		}
		sc.usable = append(sc.usable, s)
		for _, c := range f.Others.Claims {
			if c.Subnet.Overlaps(s) {
				sc.colliding[s] = append(sc.colliding[s], c)
			}
		}
		if len(sc.colliding[s]) == 0 {
			sc.routable = append(sc.routable, s)
		}
	}
	return sc
}

// overlapReason says which VPC or vswitch range s overlaps ("" if none).
func overlapReason(f Facts, s netip.Prefix) string {
	for _, v := range f.Cloud.Network.CIDRs {
		if v.Overlaps(s) {
			return fmt.Sprintf("%s overlaps the VPC CIDR %s", s, v)
		}
	}
	for _, v := range f.Cloud.Network.SubnetCIDRs {
		if v.Overlaps(s) {
			return fmt.Sprintf("%s overlaps the vswitch/subnet CIDR %s", s, v)
		}
	}
	return ""
}

// checkDocker: the Docker daemon answers (when the subnets come from it).
func checkDocker(f Facts) Check {
	d := defDocker
	switch {
	case !f.Docker.Asked:
		return d.skip("local subnets given with --subnet: Docker is not asked")
	case f.Docker.Err != "":
		return d.fail(f.Docker.Err, "start Docker (systemctl start docker), or point --docker-host (or DOCKER_HOST) at its socket")
	}
	return d.pass(fmt.Sprintf("Docker at %s answers (API %s)", f.Docker.Addr, f.Docker.APIVersion))
}

// checkDockerBIP: the bip daemon.json sets (vpcroute allocate) is the
// subnet Docker runs; it is not until Docker is restarted, and meanwhile
// the host's containers sit on a subnet the cluster does not route here.
func checkDockerBIP(f Facts) Check {
	d := defDockerBIP
	switch {
	case !f.Docker.Asked:
		return d.skip("local subnets given with --subnet: Docker is not asked")
	case f.Docker.Err != "" || f.Subnets.Err != "":
		return d.skip("Docker's subnets are not known (see docker.reachable and subnets.found)")
	case f.DockerConfig.Path == "":
		return d.pass("daemon.json not checked (--docker-config is empty)")
	case f.DockerConfig.Err != "":
		return d.warn(f.DockerConfig.Err, "fix "+f.DockerConfig.Path+" (dockerd refuses a daemon.json it cannot parse), or point --docker-config at Docker's daemon.json")
	case !f.DockerConfig.BIP.IsValid():
		return d.pass(f.DockerConfig.Path + " sets no bip: Docker picks its own")
	}
	if why := hostcfg.BIPNotRunning(f.DockerConfig.BIP, f.Subnets.Local); why != "" {
		return d.warn(why, "restart Docker (systemctl restart docker); the daemon re-applies host config for the new subnet and the leader routes it")
	}
	return d.pass(fmt.Sprintf("Docker runs %s, the subnet of the bip %s sets", f.DockerConfig.BIP.Masked(), f.DockerConfig.Path))
}

// checkSubnetsFound: at least one local container subnet is known.
func checkSubnetsFound(f Facts) Check {
	d := defSubnetsFound
	switch {
	case f.Docker.Asked && f.Docker.Err != "":
		return d.skip("Docker does not answer (see docker.reachable)")
	case f.Subnets.Err != "":
		return d.fail(f.Subnets.Err, "check --network against `docker network ls`")
	case len(f.Subnets.Local) == 0:
		return d.fail("no local container subnet: nothing to route to this host",
			`give Docker a bip inside the cluster CIDR ({"bip": "10.1.0.1/24"} in /etc/docker/daemon.json), or pass --subnet`)
	}
	from := "from Docker"
	if f.Subnets.Source == SourceFlag {
		from = "given with --subnet"
	}
	return d.pass(fmt.Sprintf("%s (%s)", prefixes(f.Subnets.Local), from))
}

// checkVPCOverlap: no local subnet overlaps the VPC or a vswitch; the VPC
// router would deliver such addresses inside the VPC, never to this host.
func checkVPCOverlap(f Facts, sc subnetClass) Check {
	d := defVPCOverlap
	switch {
	case len(f.Subnets.Local) == 0:
		return d.skip("no local subnet (see subnets.found)")
	case f.Cloud.Err != "":
		return d.skip("the VPC's ranges are unknown (see cloud.api)")
	}
	var fs []finding
	for _, s := range f.Subnets.Local {
		if reason, ok := sc.overlap[s]; ok {
			fs = append(fs, finding{Fail, reason + ": the VPC delivers those addresses inside the VPC, never to this host",
				moveSubnetFix(f, s)})
		}
	}
	return combine(d, fs, fmt.Sprintf("%s overlaps neither the VPC (%s) nor its vswitches (%s)",
		prefixes(f.Subnets.Local), prefixes(f.Cloud.Network.CIDRs), prefixes(f.Cloud.Network.SubnetCIDRs)))
}

// checkClusterCIDR: every local subnet lies in the cluster CIDR (subnets
// already refused for overlapping the VPC are reported there only).
func checkClusterCIDR(f Facts, sc subnetClass) Check {
	d := defClusterCIDR
	if len(f.Subnets.Local) == 0 {
		return d.skip("no local subnet (see subnets.found)")
	}
	var fs []finding
	for _, s := range f.Subnets.Local {
		if reason, ok := sc.outside[s]; ok {
			fs = append(fs, finding{Fail, reason + ": vpcroute routes only subnets inside it", moveSubnetFix(f, s)})
		}
	}
	if len(fs) > 0 {
		return combine(d, fs, "")
	}
	inside := slices.DeleteFunc(slices.Clone(f.Subnets.Local), func(s netip.Prefix) bool { _, ok := sc.overlap[s]; return ok })
	if len(inside) == 0 {
		return d.skip("every local subnet is refused already (see subnets.vpc-overlap)")
	}
	cause := fmt.Sprintf("%s inside %s", prefixes(inside), f.ClusterCIDR)
	if len(sc.overlap) > 0 {
		cause += fmt.Sprintf(" (%s: see subnets.vpc-overlap)", prefixes(keys(sc.overlap)))
	}
	return d.pass(cause)
}

// checkDistinct: no other host claims a subnet overlapping a local one.
func checkDistinct(f Facts, sc subnetClass) Check {
	d := defDistinct
	switch {
	case len(sc.usable) == 0:
		return d.skip("no routable local subnet (see the subnets checks above)")
	case !f.Others.Known:
		return d.skip("other hosts' subnets are unknown: no registry (--etcd-endpoints) and the route tables could not be read (see cloud.api)")
	}
	var fs []finding
	for _, s := range sc.usable {
		for _, c := range sc.colliding[s] {
			fs = append(fs, finding{Fail,
				fmt.Sprintf("%s overlaps %s, claimed by %s (%s): the VPC can send those addresses to one host only", s, c.Subnet, c.Instance, f.Others.Source),
				"give one of the two hosts a subnet no other host uses" + suggest(f, s) + ", restart Docker there and run `vpcroute sync`"})
		}
	}
	if len(fs) == 0 && f.Others.RegistryErr != "" {
		fs = append(fs, finding{Warn,
			fmt.Sprintf("cannot read the registry (%s); the route tables' owned entries show no overlap", f.Others.RegistryErr),
			"check --etcd-endpoints and etcd's health (etcdctl endpoint health)"})
	}
	pass := fmt.Sprintf("no overlap with the %d subnet(s) other hosts claim (%s)", len(f.Others.Claims), f.Others.Source)
	if len(f.Others.Claims) == 0 {
		pass = fmt.Sprintf("no other host claims a subnet yet (%s)", f.Others.Source)
	}
	return combine(d, fs, pass)
}

// moveSubnetFix says how to move s to a free range inside the cluster CIDR.
func moveSubnetFix(f Facts, s netip.Prefix) string {
	if f.Subnets.Source == SourceFlag {
		return "pass a --subnet inside the cluster CIDR " + f.ClusterCIDR.String() + " that overlaps no VPC or vswitch range" + suggest(f, s)
	}
	return fmt.Sprintf(`move the Docker network holding %s (the bip in /etc/docker/daemon.json, or the --network's subnet) inside the cluster CIDR %s, clear of the VPC%s; restart Docker, then run `+"`vpcroute sync`", s, f.ClusterCIDR, suggest(f, s))
}

// suggest names a free subnet of the same size as s, if one is found.
func suggest(f Facts, s netip.Prefix) string {
	if p, ok := freeSubnet(f, s.Bits()); ok {
		return fmt.Sprintf(" (e.g. %s: bip %s/%d)", p, p.Addr().Next(), p.Bits())
	}
	return ""
}

// freeSubnet returns the first subnet of the given length inside the
// cluster CIDR that overlaps no VPC or vswitch range, no local subnet and
// no other host's claim. It looks at the first 4096 candidates only.
func freeSubnet(f Facts, bits int) (netip.Prefix, bool) {
	c := f.ClusterCIDR
	if !c.IsValid() || bits < c.Bits() || bits > 30 {
		return netip.Prefix{}, false
	}
	var taken []netip.Prefix
	taken = append(taken, f.Cloud.Network.CIDRs...)
	taken = append(taken, f.Cloud.Network.SubnetCIDRs...)
	taken = append(taken, f.Subnets.Local...)
	for _, cl := range f.Others.Claims {
		taken = append(taken, cl.Subnet)
	}
	base := c.Masked().Addr().As4()
	n := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
	step := uint32(1) << (32 - bits)
	count := uint64(1) << (bits - c.Bits())
	for i := uint64(0); i < count && i < 4096; i++ {
		a := n + uint32(i)*step
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)}), bits)
		if !slices.ContainsFunc(taken, p.Overlaps) {
			return p, true
		}
	}
	return netip.Prefix{}, false
}

// prefixes renders a list of prefixes as "a, b".
func prefixes(ps []netip.Prefix) string {
	if len(ps) == 0 {
		return "none"
	}
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return strings.Join(out, ", ")
}

// keys returns the map's prefixes, sorted.
func keys[V any](m map[netip.Prefix]V) []netip.Prefix {
	out := make([]netip.Prefix, 0, len(m))
	for p := range m {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b netip.Prefix) int {
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c
		}
		return a.Bits() - b.Bits()
	})
	return out
}
