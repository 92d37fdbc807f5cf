package doctor

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/reconciler"
)

// Peer kinds.
const (
	PeerIP       = "ip"
	PeerCIDR     = "cidr"
	PeerInstance = "instance"
)

// Peer is the --peer argument: an address inside another host's container
// subnet, a container subnet, or an instance ID.
type Peer struct {
	Kind     string
	Addr     netip.Addr
	Prefix   netip.Prefix
	Instance string
}

// String renders the peer as given.
func (p Peer) String() string {
	switch p.Kind {
	case PeerIP:
		return p.Addr.String()
	case PeerCIDR:
		return p.Prefix.String()
	}
	return p.Instance
}

var instanceRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// ParsePeer reads --peer; the error is one line naming the value and what
// is expected.
func ParsePeer(s string) (Peer, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		if !a.Is4() {
			return Peer{}, fmt.Errorf("peer %q is invalid: expected an IPv4 address", s)
		}
		return Peer{Kind: PeerIP, Addr: a}, nil
	}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil || !p.Addr().Is4() {
			return Peer{}, fmt.Errorf("peer %q is invalid: expected an IPv4 CIDR such as 10.1.0.0/24", s)
		}
		if p != p.Masked() {
			return Peer{}, fmt.Errorf("peer %q is invalid: host bits are set; expected %s", s, p.Masked())
		}
		return Peer{Kind: PeerCIDR, Prefix: p}, nil
	}
	if !instanceRE.MatchString(s) || !strings.ContainsAny(s, "-") {
		return Peer{}, fmt.Errorf("peer %q is invalid: expected a container IP on the other host (10.1.0.2), its subnet (10.1.0.0/24) or its instance ID (i-bp1...)", s)
	}
	return Peer{Kind: PeerInstance, Instance: s}, nil
}

// checkRoutesPeer: the peer's subnets are routed to the peer in every
// managed table, Available, owned by the cluster.
func checkRoutesPeer(f Facts) Check {
	d := defRoutesPeer
	if !f.Peer.Given {
		return d.skip("no --peer given: `vpcroute doctor --peer <a container IP on the other host>` checks the routes to it too")
	}
	p := f.Peer.Peer
	if p.Kind == PeerIP && slices.ContainsFunc(f.Subnets.Local, func(s netip.Prefix) bool { return s.Contains(p.Addr) }) {
		return d.pass(fmt.Sprintf("%s is in a local subnet of this host: no VPC route is involved", p))
	}
	if f.Cloud.Err != "" || len(f.Cloud.TableErrs) > 0 || len(f.Cloud.Network.RouteTables) == 0 {
		return d.skip("the route tables are unknown (see cloud.api)")
	}
	claims := resolvePeer(f, p)
	if len(claims) == 0 {
		return d.fail(fmt.Sprintf("no host of cluster %s claims %s: %s", f.Cluster, p, peerSources(f)),
			"check the address; on the peer host, run `vpcroute sync` (or start `vpcroute daemon`)")
	}
	var fs []finding
	var routed []string
	for _, c := range claims {
		ch := reconciler.Calculate(reconciler.PlanInput{
			Cluster: f.Cluster, ClusterCIDR: f.ClusterCIDR,
			VPCCIDRs: f.Cloud.Network.CIDRs, SubnetCIDRs: f.Cloud.Network.SubnetCIDRs,
			Tables:  f.Cloud.Tables,
			Desired: []reconciler.Desired{{Destination: c.Subnet, Target: c.Target}},
			Scope:   []cloud.Target{c.Target},
		})
		fs = append(fs, routeFindings(f, ch, c.Target, "the peer host "+c.Instance)...)
		routed = append(routed, fmt.Sprintf("%s -> %s", c.Subnet, c.Target))
	}
	return combine(d, fs, fmt.Sprintf("peer %s: %s in %s, owned by cluster %s, Available", p, strings.Join(routed, ", "),
		strings.Join(f.Cloud.Network.RouteTables, ", "), f.Cluster))
}

// resolvePeer finds the peer's claims: in the registry when it was read,
// else in the tables' entries owned by the cluster.
func resolvePeer(f Facts, p Peer) []Claim {
	hit := func(c Claim) bool {
		switch p.Kind {
		case PeerIP:
			return c.Subnet.Contains(p.Addr)
		case PeerCIDR:
			return c.Subnet == p.Prefix
		}
		return c.Instance == p.Instance || c.Target.ID == p.Instance
	}
	var out []Claim
	for _, c := range f.Others.Claims {
		if hit(c) && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	if len(out) > 0 || f.Others.Source == OthersTables {
		return out
	}
	// Not registered: an owned entry may still route it (a host synced
	// without the registry).
	for _, c := range ownedClaims(f, f.Cloud.Self.Target) {
		if hit(c) && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// ownedClaims are the claims the tables' owned entries show for targets
// other than self.
func ownedClaims(f Facts, self cloud.Target) []Claim {
	var out []Claim
	for _, t := range sortedTableIDs(f.Cloud.Tables) {
		for _, r := range f.Cloud.Tables[t] {
			if !r.OwnedBy(f.Cluster) || r.Target == self {
				continue
			}
			c := Claim{Instance: r.Target.ID, Target: r.Target, Subnet: r.Destination}
			if !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
	}
	return out
}

// peerSources says where doctor looked for the peer.
func peerSources(f Facts) string {
	if f.Others.Source == OthersRegistry {
		return "neither the registry nor the route tables' owned entries know it"
	}
	return "no route table entry owned by the cluster holds it"
}
