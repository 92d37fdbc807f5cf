package reconciler

import (
	"fmt"
	"slices"

	"github.com/vpcroute/vpcroute/cloud"
)

// GuardInput is what the deletion guard needs besides the plan.
type GuardInput struct {
	// Registered are the targets of hosts in the registry. A registered
	// host is the authority on its own subnets: its route for a subnet it
	// no longer claims may go.
	Registered map[cloud.Target]bool
	// Gone are targets the cloud confirmed gone. The routes of an
	// unregistered target go only when it is here.
	Gone map[cloud.Target]bool
	// Owned is how many entries the cluster owns across all tables; the
	// mass-delete guard is measured against it.
	Owned int
	// AllowMassDelete lifts the mass-delete guard.
	AllowMassDelete bool
}

// MassDeleteLimit is how many of owned routes one pass may delete without
// --allow-mass-delete: max(3, 25%).
func MassDeleteLimit(owned int) int { return max(3, owned/4) }

// GuardDeletes removes from the plan every deletion that is not proven
// safe, and returns them as Held:
//   - a route whose target is neither registered nor confirmed gone: its
//     agent may merely be silent;
//   - every deletion, when more than MassDeleteLimit would go at once
//     (a wiped registry must not empty the route tables).
//
// A creation that replaces a held deletion (same table and destination)
// cannot be sent either; it becomes an occupied conflict.
func GuardDeletes(ch Changes, in GuardInput) (Changes, []Held) {
	var held []Held
	var heldRoutes, keep []cloud.Route
	hold := func(r cloud.Route, reason string) {
		held = append(held, Held{Route: refOf(r), Reason: reason})
		heldRoutes = append(heldRoutes, r)
	}
	for _, d := range ch.Delete {
		if in.Registered[d.Target] || in.Gone[d.Target] {
			keep = append(keep, d)
			continue
		}
		hold(d, HeldNotGone)
	}
	if len(keep) > MassDeleteLimit(in.Owned) && !in.AllowMassDelete {
		for _, d := range keep {
			hold(d, HeldMassDelete)
		}
		keep = nil
	}
	out := ch
	out.Delete = keep
	out.Create = nil
	for _, c := range ch.Create {
		if i := slices.IndexFunc(held, func(h Held) bool {
			return h.Route.TableID == c.TableID && h.Route.Destination == c.Destination
		}); i >= 0 {
			out.Conflicts = append(out.Conflicts, Conflict{Kind: ConflictOccupied,
				Desired: Desired{Destination: c.Destination, Target: c.Target},
				Holder:  heldRoutes[i],
				Reason: fmt.Sprintf("%s in %s still points at %s, which is held (%s)",
					c.Destination, c.TableID, held[i].Route.Target, held[i].Reason)})
			continue
		}
		out.Create = append(out.Create, c)
	}
	return out, held
}

func refOf(r cloud.Route) RouteRef {
	return RouteRef{TableID: r.TableID, Destination: r.Destination, Target: r.Target.String()}
}
