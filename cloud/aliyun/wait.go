package aliyun

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/vpcroute/vpcroute/cloud"
)

// Alibaba applies route changes in the background: a created entry is
// Pending, a deleted one Deleting, until the change is done, and the VPC
// takes no other change meanwhile. Each batch is therefore waited for,
// bounded by opts.ChangeTimeout; an entry that outlasts the wait is an
// error naming it, never taken as done.

// waitAvailable polls the table until every route of want is Available and
// points where it should. A destination held by another next hop is an
// error at once: waiting will not change it.
func (p *Provider) waitAvailable(ctx context.Context, tableID string, want []cloud.Route) error {
	return p.poll(ctx, tableID, cloud.StatusAvailable, func(current []cloud.Route) ([]string, error) {
		var waiting []string
		for _, w := range want {
			e, ok := findDestination(current, w.Destination)
			switch {
			case !ok:
				waiting = append(waiting, fmt.Sprintf("%s -> %s (not listed)", w.Destination, w.Target))
			case e.Target != w.Target:
				return nil, fmt.Errorf("create route %s in %s: destination is held by %s (%s)", w.Destination, tableID, e.Target, describeHolder(e))
			case e.Status != cloud.StatusAvailable:
				waiting = append(waiting, fmt.Sprintf("%s -> %s (%s)", e.Destination, e.Target, e.Status))
			}
		}
		return waiting, nil
	})
}

// waitGone polls the table until none of the routes is left.
func (p *Provider) waitGone(ctx context.Context, tableID string, gone []cloud.Route) error {
	return p.poll(ctx, tableID, "deleted", func(current []cloud.Route) ([]string, error) {
		var waiting []string
		for _, g := range gone {
			if e, ok := findEntry(current, g.Destination, g.Target); ok {
				waiting = append(waiting, fmt.Sprintf("%s -> %s (%s)", e.Destination, e.Target, e.Status))
			}
		}
		return waiting, nil
	})
}

// poll lists the table until check reports nothing left to wait for, with
// growing intervals, bounded by opts.ChangeTimeout. check returns the
// entries still awaited, which a timeout error names with the wait.
func (p *Provider) poll(ctx context.Context, tableID, what string, check func([]cloud.Route) ([]string, error)) error {
	wait, cancel := context.WithTimeout(ctx, p.opts.ChangeTimeout)
	defer cancel()
	interval := 200 * time.Millisecond
	var waiting []string
	for {
		// An ended term (ctx) abandons the wait at once.
		if err := cloud.Stopped(ctx, fmt.Sprintf("wait for routes in %s to be %s", tableID, what)); err != nil {
			return err
		}
		current, err := p.Routes(wait, tableID)
		if err != nil {
			if timedOut(ctx, wait) && len(waiting) > 0 {
				return p.notDone(tableID, what, waiting, wait.Err())
			}
			return fmt.Errorf("wait for routes in %s to be %s: %w", tableID, what, err)
		}
		cloud.Progress(ctx)
		if waiting, err = check(current); err != nil || len(waiting) == 0 {
			return err
		}
		select {
		case <-wait.Done():
			if !timedOut(ctx, wait) {
				return cloud.Stopped(ctx, fmt.Sprintf("wait for routes in %s to be %s", tableID, what))
			}
			return p.notDone(tableID, what, waiting, wait.Err())
		case <-time.After(interval):
		}
		// At most every 500 ms: an entry is Pending for a few seconds, and
		// noticing late delays this batch and the next by as much.
		interval = min(interval*3/2, 500*time.Millisecond)
	}
}

// timedOut reports whether wait ended by its own deadline, not because
// its parent ctx ended (a deposed leader, a shutdown).
func timedOut(ctx, wait context.Context) bool {
	return wait.Err() != nil && ctx.Err() == nil
}

func (p *Provider) notDone(tableID, what string, waiting []string, cause error) error {
	return fmt.Errorf("routes in %s not %s after %s: %s: %w", tableID, what, p.opts.ChangeTimeout, strings.Join(waiting, ", "), cause)
}
