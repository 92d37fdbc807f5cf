package lab

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// poll calls check every interval until it reports done or an error, ctx
// ends or timeout passes. It always checks at least once.
func poll(ctx context.Context, timeout, interval time.Duration, check func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		done, err := check()
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %s", timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(interval):
		}
	}
}

// RouteState is what the lab knows of host h's route: the simulated VPC's
// entry for its subnet and the VPC router's kernel route.
type RouteState struct {
	// Entry is the table's entry for the host's subnet, if any.
	Entry SimEntry
	// HasEntry says whether the table holds an entry for the subnet.
	HasEntry bool
	// Kernel says whether the router namespace routes the subnet to the host.
	Kernel bool
}

// Routed reports whether the host's subnet is routed to it: an Available
// entry "subnet -> Instance host" (on EC2 an active route to the host's
// ENI, see HostPlan.RouteTarget) and the matching kernel route.
func (s RouteState) Routed(h *Host) bool {
	e := s.Entry
	typ, id, forwarding := h.RouteTarget()
	return s.HasEntry && s.Kernel && e.NextHopType == typ && e.NextHopID == id && e.Status == forwarding
}

// Gone reports whether neither an entry nor a kernel route for the subnet
// is left.
func (s RouteState) Gone() bool { return !s.HasEntry && !s.Kernel }

// String describes the state for errors and narration.
func (s RouteState) String() string {
	entry := "no entry"
	if s.HasEntry {
		entry = fmt.Sprintf("entry -> %s %s (%s)", s.Entry.NextHopType, s.Entry.NextHopID, s.Entry.Status)
	}
	kernel := "no kernel route"
	if s.Kernel {
		kernel = "kernel route present"
	}
	return entry + ", " + kernel
}

// Route reads host h's route state from the simulator and the router.
func (l *Lab) Route(ctx context.Context, h *Host) (RouteState, error) {
	entries, err := l.SimEntries(ctx)
	if err != nil {
		return RouteState{}, err
	}
	kernel, err := l.RouterRoutes(ctx)
	if err != nil {
		return RouteState{}, err
	}
	var s RouteState
	s.Entry, s.HasEntry = FindEntry(entries, l.RouteTableID(), h.Subnet.String())
	s.Kernel = strings.Contains(kernel+"\n", fmt.Sprintf("%s via %s ", h.Subnet, h.IP))
	return s, nil
}

// WaitRouted waits (at most timeout) until h's subnet is routed to it and
// returns when that was first seen.
func (l *Lab) WaitRouted(ctx context.Context, h *Host, timeout time.Duration) (time.Time, error) {
	return l.waitRoute(ctx, h, timeout, "routed", func(s RouteState) bool { return s.Routed(h) })
}

// WaitRouteGone waits (at most timeout) until h's subnet has neither an
// entry nor a kernel route, and returns when that was first seen.
func (l *Lab) WaitRouteGone(ctx context.Context, h *Host, timeout time.Duration) (time.Time, error) {
	return l.waitRoute(ctx, h, timeout, "gone", RouteState.Gone)
}

func (l *Lab) waitRoute(ctx context.Context, h *Host, timeout time.Duration, want string, ok func(RouteState) bool) (time.Time, error) {
	var (
		last RouteState
		at   time.Time
	)
	err := poll(ctx, timeout, 100*time.Millisecond, func() (bool, error) {
		s, err := l.Route(ctx, h)
		if err != nil {
			return false, err
		}
		last, at = s, time.Now()
		return ok(s), nil
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("route of %s (%s) %s: %w; last seen: %s", h.Name, h.Subnet, want, err, last)
	}
	return at, nil
}
