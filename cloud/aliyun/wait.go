package aliyun

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/vpcroute/vpcroute/cloud"
)

// Alibaba applies route changes in the background: a created entry is
// Pending, a deleted one Deleting, until the change is done, and the VPC
// takes no other change meanwhile. Each batch is therefore waited for,
// bounded by opts.ChangeTimeout; an entry that outlasts the wait is an
// error naming it, never taken as done.

// maxNotListed is how many listings in a row may leave out a route just
// created before waiting for it is an error.
const maxNotListed = 5

// waitAvailable polls the table until every route of want is Available and
// points where it should, and returns the listing that showed it. A
// destination held by another next hop is an error at once: waiting will
// not change it.
func (p *Provider) waitAvailable(ctx context.Context, tableID string, want []cloud.Route) (last []cloud.Route, err error) {
	missing := map[netip.Prefix]int{} // consecutive listings without the route
	err = p.poll(ctx, tableID, cloud.StatusAvailable, p.opts.ChangeTimeout, false, func(current []cloud.Route) ([]string, error) {
		last = current
		var waiting []string
		for _, w := range want {
			e, ok := cloud.FindDestination(current, w.Destination)
			if ok {
				delete(missing, w.Destination)
			}
			switch {
			case !ok && missing[w.Destination]+1 >= maxNotListed:
				// Created, then gone from the table (the cloud lost it,
				// or someone deleted it): waiting until ChangeTimeout
				// would stall every pass behind this one. The next pass
				// creates it again.
				return nil, fmt.Errorf("create route %s -> %s in %s: not listed in %d listings in a row after it was created", w.Destination, w.Target, tableID, maxNotListed)
			case !ok:
				missing[w.Destination]++
				waiting = append(waiting, fmt.Sprintf("%s -> %s (not listed)", w.Destination, w.Target))
			case e.Target != w.Target:
				return nil, fmt.Errorf("create route %s in %s: destination is held by %s (%s)", w.Destination, tableID, e.Target, describeHolder(e))
			case e.Status != cloud.StatusAvailable:
				waiting = append(waiting, fmt.Sprintf("%s -> %s (%s)", e.Destination, e.Target, e.Status))
			}
		}
		return waiting, nil
	})
	return last, err
}

// waitGone polls the table until none of the routes is left, and returns
// the listing that showed it.
func (p *Provider) waitGone(ctx context.Context, tableID string, gone []cloud.Route) (last []cloud.Route, err error) {
	err = p.poll(ctx, tableID, "deleted", p.opts.ChangeTimeout, false, func(current []cloud.Route) ([]string, error) {
		last = current
		var waiting []string
		for _, g := range gone {
			if e, ok := cloud.FindEntry(current, g.Destination, g.Target); ok {
				waiting = append(waiting, fmt.Sprintf("%s -> %s (%s)", e.Destination, e.Target, e.Status))
			}
		}
		return waiting, nil
	})
	return last, err
}

// waitSettled waits until no change is in flight in the table: before a
// change is sent, so that it queues behind another process's instead of
// being refused. last is a listing of the table just made (nil if none):
// when it shows nothing in flight, nothing is read. The wait is bounded by
// opts.RetryTimeout, the bound of a refused call's retries, and its polls
// carry a little jitter, so that processes waiting for the same change do
// not all come back at the same moment.
func (p *Provider) waitSettled(ctx context.Context, tableID string, last []cloud.Route) error {
	if last != nil && !slices.ContainsFunc(last, inFlight) {
		return nil
	}
	_, err := p.pollSettled(ctx, tableID, p.opts.RetryTimeout)
	return err
}

// pollSettled polls the table until nothing in it is in flight, at most for
// timeout; busy reports whether anything was.
func (p *Provider) pollSettled(ctx context.Context, tableID string, timeout time.Duration) (busy bool, err error) {
	err = p.poll(ctx, tableID, "settled", timeout, true, func(current []cloud.Route) ([]string, error) {
		var waiting []string
		for _, e := range current {
			if inFlight(e) {
				waiting = append(waiting, fmt.Sprintf("%s -> %s (%s)", e.Destination, e.Target, e.Status))
			}
		}
		busy = busy || len(waiting) > 0
		return waiting, nil
	})
	return busy, err
}

// poll lists the table until check reports nothing left to wait for,
// bounded by timeout. check returns the entries still awaited, which a
// timeout error names with the wait. The listings are paced by the settle
// clock: around the moment the change in flight is expected to end when
// that is known, else at growing intervals up to 500 ms. jitter adds up to
// a quarter to each interval.
func (p *Provider) poll(ctx context.Context, tableID, what string, timeout time.Duration, jitter bool, check func([]cloud.Route) ([]string, error)) error {
	wait, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var waiting []string
	for step := 0; ; step++ {
		// An ended term (ctx) abandons the wait at once.
		if err := cloud.Stopped(ctx, fmt.Sprintf("wait for routes in %s to be %s", tableID, what)); err != nil {
			return err
		}
		current, err := p.Routes(wait, tableID)
		if err != nil {
			if timedOut(ctx, wait) && len(waiting) > 0 {
				return p.notDone(tableID, what, timeout, waiting, wait.Err())
			}
			return fmt.Errorf("wait for routes in %s to be %s: %w", tableID, what, err)
		}
		cloud.Progress(ctx)
		if waiting, err = check(current); err != nil || len(waiting) == 0 {
			return err
		}
		interval := p.settle.nextPoll(tableID, time.Now(), step)
		if jitter {
			interval += rand.N(interval/4 + 1)
		}
		select {
		case <-wait.Done():
			if !timedOut(ctx, wait) {
				return cloud.Stopped(ctx, fmt.Sprintf("wait for routes in %s to be %s", tableID, what))
			}
			return p.notDone(tableID, what, timeout, waiting, wait.Err())
		case <-time.After(interval):
		}
	}
}

// timedOut reports whether wait ended by its own deadline, not because
// its parent ctx ended (a deposed leader, a shutdown).
func timedOut(ctx, wait context.Context) bool {
	return wait.Err() != nil && ctx.Err() == nil
}

func (p *Provider) notDone(tableID, what string, timeout time.Duration, waiting []string, cause error) error {
	return fmt.Errorf("routes in %s not %s after %s: %s: %w", tableID, what, timeout, strings.Join(waiting, ", "), cause)
}
