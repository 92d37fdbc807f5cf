package cloud

import "net/netip"

// The providers re-check ownership against a listing made just before
// they delete or replace: these are the look-ups they make in it.

// FindDestination returns the entry of routes for dst, whatever its
// target, and whether there is one.
func FindDestination(routes []Route, dst netip.Prefix) (Route, bool) {
	for _, r := range routes {
		if r.Destination == dst {
			return r, true
		}
	}
	return Route{}, false
}

// FindEntry returns the entry of routes for dst pointing at target, and
// whether there is one.
func FindEntry(routes []Route, dst netip.Prefix, target Target) (Route, bool) {
	for _, r := range routes {
		if r.Destination == dst && r.Target == target {
			return r, true
		}
	}
	return Route{}, false
}

// DeletableBy splits routes, each as current (the table listed just now)
// holds it, into the entries cluster may delete and those it may not (not
// its own, or the cloud's). A route current no longer holds at its target
// is in neither: gone or moved, it is not what the caller meant.
func DeletableBy(cluster string, current, routes []Route) (owned, refused []Route) {
	for _, r := range routes {
		e, ok := FindEntry(current, r.Destination, r.Target)
		switch {
		case !ok:
		case !e.OwnedBy(cluster) || e.System:
			refused = append(refused, e)
		default:
			owned = append(owned, e)
		}
	}
	return owned, refused
}
