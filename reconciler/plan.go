// Package reconciler turns desired routes and the route tables as they are
// into changes, and applies them through a cloud.Provider.
package reconciler

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"

	"github.com/vpcroute/vpcroute/cloud"
)

// Desired is one route vpcroute wants in every managed table.
type Desired struct {
	Destination netip.Prefix `json:"destination"`
	Target      cloud.Target `json:"target"`
}

// PlanInput is everything the plan depends on. The plan does no I/O.
type PlanInput struct {
	// Cluster is the ownership mark of this vpcroute cluster.
	Cluster string
	// ClusterCIDR contains every container subnet of the cluster. Without a
	// valid one nothing is deleted.
	ClusterCIDR netip.Prefix
	// VPCCIDRs and SubnetCIDRs are the VPC's own ranges; a desired route
	// overlapping them is refused.
	VPCCIDRs    []netip.Prefix
	SubnetCIDRs []netip.Prefix
	// Tables maps each managed table to its entries as listed.
	Tables map[string][]cloud.Route
	// Desired routes, wanted in every managed table.
	Desired []Desired
	// Scope limits deletion to owned entries pointing at these targets (a
	// one-shot sync manages only its own host). Empty: every owned entry.
	Scope []cloud.Target
	// Policy decides whether deletions are planned.
	Policy Policy
	// Replace lets the plan move an owned entry that points at another
	// target to the desired one (delete, then create) instead of reporting
	// a conflict. Only the leader sets it: it sees every host's claim, so an
	// owned entry it does not desire is stale, not another host's.
	Replace bool
	// AllowCarveOut lets a desired route be created inside a broader entry
	// the cluster does not own (other than a default route), taking that
	// part of the entry's traffic. Off, such a route is a blocking
	// carve-out conflict.
	AllowCarveOut bool
}

// Changes is the plan: what to create, what to delete, and what was not
// done and why. It has JSON tags so `vpcroute plan -o json` prints it.
type Changes struct {
	Create    []cloud.Route `json:"create"`
	Delete    []cloud.Route `json:"delete"`
	Conflicts []Conflict    `json:"conflicts"`
	Refused   []Refusal     `json:"refused"`
	// InSync are owned entries already as desired (possibly still Pending).
	InSync []cloud.Route `json:"inSync"`
}

// Conflict kinds.
const (
	// ConflictOccupied: the destination is held by an entry vpcroute may
	// not change; the desired route is not created in that table.
	ConflictOccupied = "occupied"
	// ConflictShadowed: a more specific entry not owned by this cluster
	// takes part of the destination's traffic elsewhere. The route is
	// still created; the operator is told.
	ConflictShadowed = "shadowed"
	// ConflictCarveOut: the destination lies inside a broader entry not
	// owned by this cluster (an office VPN's range, a peering): creating
	// it would take part of that entry's traffic. Blocking unless the
	// operator allows carve-outs. A default route (/0) is not counted.
	ConflictCarveOut = "carve-out"
	// ConflictWithheld: the destination is blocked in another managed
	// table, so it is written in none, and this table keeps what it has.
	ConflictWithheld = "withheld"
)

// Conflict is a desired route that collides with an entry in a table.
type Conflict struct {
	Kind    string      `json:"kind"`
	Desired Desired     `json:"desired"`
	Holder  cloud.Route `json:"holder"`
	Reason  string      `json:"reason"`
}

// Blocking reports whether the conflict stops the desired route.
func (c Conflict) Blocking() bool { return c.Kind == ConflictOccupied || c.Kind == ConflictCarveOut }

// Refusal is a desired route the plan will not write anywhere.
type Refusal struct {
	Desired Desired `json:"desired"`
	Reason  string  `json:"reason"`
}

// Empty reports whether the plan changes nothing.
func (c Changes) Empty() bool { return len(c.Create) == 0 && len(c.Delete) == 0 }

// Calculate computes the changes that bring the tables to the desired
// routes. It never changes or deletes an entry not owned by in.Cluster.
// It takes O(n log n) time in the entries and desired routes.
func Calculate(in PlanInput) Changes {
	desired, refused := validateDesired(in)
	return planTables(in, desired, refused, func(entries []cloud.Route) entryLookup {
		return newTableIndex(entries, in.Cluster)
	})
}

// entryLookup finds what a desired destination meets in one table: see
// tableIndex.around, its only implementation outside tests.
type entryLookup interface {
	around(d netip.Prefix, carveOuts bool) (exact *cloud.Route, shadows []*cloud.Route, carved *cloud.Route)
}

// planTables plans the validated desired routes in every table, each
// table looked at through the lookup made for it.
func planTables(in PlanInput, desired []Desired, refused []Refusal, lookup func([]cloud.Route) entryLookup) Changes {
	ch := Changes{Refused: refused}
	inSync := 0 // at most, and in a steady state exactly
	for _, entries := range in.Tables {
		inSync += min(len(entries), len(desired))
	}
	if inSync > 0 {
		ch.InSync = make([]cloud.Route, 0, inSync)
	}
	// Validated routes never share a destination: a route is looked up
	// by it, which hashes faster than the destination and target.
	wanted := make(map[netip.Prefix]cloud.Target, len(desired))
	for _, d := range desired {
		wanted[d.Destination] = d.Target
	}
	for _, table := range sortedKeys(in.Tables) {
		entries := in.Tables[table]
		l := lookup(entries)
		for _, d := range desired {
			exact, shadows, carved := l.around(d.Destination, !in.AllowCarveOut)
			planDesired(&ch, in, table, d, exact, shadows, carved)
		}
		if in.Policy != nil && in.Policy.AllowDelete() && in.ClusterCIDR.IsValid() {
			for _, e := range entries {
				if deletable(in, e, wanted) {
					ch.Delete = append(ch.Delete, e)
				}
			}
		}
	}
	if len(ch.InSync) == 0 {
		ch.InSync = nil // as before it was sized: `vpcroute plan -o json` prints null
	}
	ch = WithholdBlocked(ch)
	sortRoutes(ch.Create)
	sortRoutes(ch.Delete)
	sortRoutes(ch.InSync)
	return ch
}

// planDesired adds what one desired route needs in one table, given the
// entry on its destination (exact), the entries not ours inside it
// (shadows, in table order) and the broader entry not ours it would be
// carved out of (carved).
func planDesired(ch *Changes, in PlanInput, table string, d Desired, exact *cloud.Route, shadows []*cloud.Route, carved *cloud.Route) {
	for _, e := range shadows {
		// A longer prefix inside d that is not ours steals part of d's
		// traffic.
		ch.Conflicts = append(ch.Conflicts, Conflict{Kind: ConflictShadowed, Desired: d, Holder: *e,
			Reason: fmt.Sprintf("more specific %s -> %s in %s takes part of %s", e.Destination, e.Target, table, d.Destination)})
	}
	if carved != nil {
		// d inside a broader entry that is not ours would take part of
		// that entry's traffic (an office VPN, a peering).
		ch.Conflicts = append(ch.Conflicts, Conflict{Kind: ConflictCarveOut, Desired: d, Holder: *carved,
			Reason: fmt.Sprintf("%s lies inside %s -> %s in %s (%s); creating it would take part of that route's traffic (allow with --allow-carve-out)",
				d.Destination, carved.Destination, carved.Target, table, holderName(*carved))})
	}
	switch {
	case exact == nil:
		if carved == nil {
			ch.Create = append(ch.Create, cloud.Route{TableID: table, Destination: d.Destination, Target: d.Target})
		}
	case exact.OwnedBy(in.Cluster) && exact.Target == d.Target:
		ch.InSync = append(ch.InSync, *exact)
	case exact.OwnedBy(in.Cluster) && in.Replace && in.Policy != nil && in.Policy.AllowDelete() && len(in.Scope) == 0:
		// The stale entry is deleted by the deletion pass; Apply sends
		// deletions before creations. A carve-out withholds the move and
		// the deletion with it (WithholdBlocked).
		ch.Create = append(ch.Create, cloud.Route{TableID: table, Destination: d.Destination, Target: d.Target})
	case exact.OwnedBy(in.Cluster):
		ch.Conflicts = append(ch.Conflicts, Conflict{Kind: ConflictOccupied, Desired: d, Holder: *exact,
			Reason: fmt.Sprintf("%s in %s already points at %s for this cluster; two hosts claim it, or that host is gone (run `vpcroute sync --remove` there)", d.Destination, table, exact.Target)})
	default:
		ch.Conflicts = append(ch.Conflicts, Conflict{Kind: ConflictOccupied, Desired: d, Holder: *exact,
			Reason: fmt.Sprintf("%s in %s is held by %s (%s), which vpcroute does not own and will not change", d.Destination, table, exact.Target, holderName(*exact))})
	}
}

// WithholdBlocked makes the tables agree: a destination with a blocking
// conflict in any table is written in none. Its creations elsewhere are
// withdrawn (reported as withheld), and so are the deletions that would
// have made room for them (a move), so every table keeps what it has.
// Deletions of routes that are simply stale are not affected.
func WithholdBlocked(ch Changes) Changes {
	blocked := map[netip.Prefix]Conflict{}
	blockedIn := map[cloud.Route]bool{} // table and destination of each blocking conflict
	for _, c := range ch.Conflicts {
		if !c.Blocking() {
			continue
		}
		blockedIn[cloud.Route{TableID: c.Holder.TableID, Destination: c.Desired.Destination}] = true
		if _, seen := blocked[c.Desired.Destination]; !seen {
			blocked[c.Desired.Destination] = c
		}
	}
	if len(blocked) == 0 {
		return ch
	}
	out := ch
	out.Create, out.Delete, out.Conflicts = nil, nil, slices.Clone(ch.Conflicts)
	moved := map[cloud.Route]bool{} // table and destination of withheld creations
	for _, c := range ch.Create {
		b, ok := blocked[c.Destination]
		if !ok {
			out.Create = append(out.Create, c)
			continue
		}
		key := cloud.Route{TableID: c.TableID, Destination: c.Destination}
		moved[key] = true
		if blockedIn[key] {
			continue // this table's own conflict says why
		}
		out.Conflicts = append(out.Conflicts, Conflict{Kind: ConflictWithheld, Desired: Desired{Destination: c.Destination, Target: c.Target},
			Holder: b.Holder,
			Reason: fmt.Sprintf("%s is not written in %s because it is blocked in %s: %s", c.Destination, c.TableID, b.Holder.TableID, b.Reason)})
	}
	for _, d := range ch.Delete {
		if !moved[cloud.Route{TableID: d.TableID, Destination: d.Destination}] {
			out.Delete = append(out.Delete, d)
		}
	}
	return out
}

// deletable reports whether e is an owned entry that is no longer desired
// and inside the plan's scope.
func deletable(in PlanInput, e cloud.Route, wanted map[netip.Prefix]cloud.Target) bool {
	if !e.OwnedBy(in.Cluster) || e.System {
		return false
	}
	// Ownership marks can be copied by hand; an entry outside the cluster
	// CIDR is never ours to remove.
	if !cloud.PrefixContains(in.ClusterCIDR, e.Destination) {
		return false
	}
	if len(in.Scope) > 0 && !slices.Contains(in.Scope, e.Target) {
		return false
	}
	t, ok := wanted[e.Destination]
	return !ok || t != e.Target
}

func holderName(e cloud.Route) string {
	switch {
	case e.System:
		return "a system route"
	case e.Cluster != "":
		return "vpcroute cluster " + e.Cluster
	case e.Name != "":
		return "entry " + e.Name
	}
	return "an unnamed entry"
}

func sortedKeys(m map[string][]cloud.Route) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func sortRoutes(rs []cloud.Route) {
	slices.SortFunc(rs, func(a, b cloud.Route) int {
		return cmp.Or(cmp.Compare(a.TableID, b.TableID), a.Destination.Addr().Compare(b.Destination.Addr()),
			cmp.Compare(a.Destination.Bits(), b.Destination.Bits()))
	})
}
