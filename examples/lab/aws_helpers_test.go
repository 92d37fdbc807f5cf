package lab_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/examples/lab"
)

// terminationSeen is what a watch saw of a host's route.
type terminationSeen struct {
	blackhole  time.Time    // first seen blackhole (zero: never)
	kernelGone time.Time    // first seen without the kernel route
	gone       time.Time    // first seen without a route
	lastBefore lab.SimEntry // the route as last seen before it went
	err        error
}

// watchTermination polls h's route until it is gone (at most timeout) and
// reports what it saw on the returned channel.
func watchTermination(ctx context.Context, l *lab.Lab, h *lab.Host, timeout time.Duration) <-chan terminationSeen {
	out := make(chan terminationSeen, 1)
	go func() {
		var r terminationSeen
		deadline := time.Now().Add(timeout)
		for {
			s, err := l.Route(ctx, h)
			now := time.Now()
			switch {
			case err != nil:
				r.err = err
			case s.HasEntry:
				r.lastBefore = s.Entry
				if s.Entry.Status == lab.StatusBlackhole && r.blackhole.IsZero() {
					r.blackhole = now
				}
			}
			if err == nil && !s.Kernel && r.kernelGone.IsZero() {
				r.kernelGone = now
			}
			if err == nil && !s.HasEntry {
				r.gone = now
			}
			if r.err == nil && r.gone.IsZero() && now.After(deadline) {
				r.err = fmt.Errorf("still there after %s; last seen %s", timeout, s)
			}
			if r.err != nil || !r.gone.IsZero() {
				out <- r
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	return out
}

// checkNotClaimed: the leader's last reconcile treats no unowned route as
// the cluster's. A held delete of one (kept only because the cloud does
// not confirm its target gone) means the reconciler would delete it as
// soon as it could, and keeps every pass degraded meanwhile.
func checkNotClaimed(ctx context.Context, t *testing.T, l *lab.Lab, leader *lab.Host) {
	doc, err := l.Status(ctx, leader)
	if err != nil {
		t.Fatal(err)
	}
	r := doc.Reconcile
	if r == nil {
		t.Fatalf("%s's status has no reconcile yet", leader.Name)
	}
	unowned := map[string]lab.SimRoute{}
	for _, u := range lab.AWSUnownedRoutes {
		unowned[u.Destination] = u
	}
	for _, h := range r.Held {
		if u, ok := unowned[h.Route.Destination.String()]; ok {
			t.Errorf("the leader holds a delete of unowned route %s -> %s %s (%s): it takes the route for the cluster's", u.Destination, u.NextHopType, u.NextHopID, h.Reason)
		}
	}
	for _, c := range r.Conflicts {
		t.Logf("leader's reconcile conflict: %+v", c)
	}
	t.Logf("leader's last reconcile: %s", reconcileSummary(doc))
}

// tableRaw is every entry of a table, raw, one per line.
func tableRaw(entries []lab.SimEntry, table string) string {
	var b bytes.Buffer
	for _, e := range entries {
		if e.Table == table {
			fmt.Fprintf(&b, "%s\n", e.Raw)
		}
	}
	return b.String()
}

func eniIDs(hosts []*lab.Host) []string {
	var ids []string
	for _, h := range hosts {
		ids = append(ids, h.ENI)
	}
	return ids
}
