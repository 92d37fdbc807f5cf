package reconciler

import (
	"context"
	"fmt"
	"time"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/internal/textline"
)

// unknownRetry is how long an instance the cloud did not list waits before
// it is asked about again: a host launched a moment ago may register
// before every API lists it, and a forged record must not cost a call on
// every pass.
const unknownRetry = 30 * time.Second

// unknownRetryAfter is how long an instance the cloud did not list the
// last misses times in a row waits before it is asked again: unknownRetry,
// doubling with every further miss, at most ceiling (the refresh period).
// A host the API lists late is asked again soon; a record of an instance
// in another VPC, which no retry will list, settles at one question per
// refresh period instead of one every unknownRetry.
func unknownRetryAfter(misses int, ceiling time.Duration) time.Duration {
	d := unknownRetry << min(max(misses-1, 0), 16)
	return min(d, ceiling)
}

// targetCache remembers what the cloud said about each registered
// instance's target, so that a steady registry costs no lookups. An answer
// is asked again after refresh, when the record starts stating another
// target (the ENI may really have changed), and for an instance the cloud
// did not list, after unknownRetryAfter.
type targetCache struct {
	refresh time.Duration
	entries map[string]targetEntry
}

type targetEntry struct {
	target cloud.Target // zero: not listed by the cloud
	known  bool
	stated cloud.Target // what the record said when the cloud was asked
	at     time.Time
	misses int // answers in a row that did not list the instance
}

func newTargetCache(refresh time.Duration) *targetCache {
	return &targetCache{refresh: refresh, entries: map[string]targetEntry{}}
}

// check returns what the cloud says about every instance among hosts,
// asking it only about the instances whose answer is missing or stale. A
// failed lookup keeps the answers it had; an instance with none is checked
// with Err set, so its record is refused for this pass and nothing of its
// moves. The error is returned too, for the log.
func (c *targetCache) check(ctx context.Context, p cloud.Provider, hosts []Host, now time.Time) (map[string]InstanceCheck, error) {
	var ask []string
	stated := make(map[string]cloud.Target, len(hosts))
	for _, h := range hosts {
		stated[h.Instance] = h.Target
		if h.Problem != "" {
			continue
		}
		e, ok := c.entries[h.Instance]
		stale := !ok || now.Sub(e.at) >= c.refresh || (!e.known && now.Sub(e.at) >= unknownRetryAfter(e.misses, c.refresh)) ||
			(e.known && e.stated != h.Target && e.target != h.Target)
		if stale {
			ask = append(ask, h.Instance)
		}
	}
	for id := range c.entries {
		if _, ok := stated[id]; !ok {
			delete(c.entries, id) // deregistered: ask afresh if it comes back
		}
	}
	out := make(map[string]InstanceCheck, len(hosts))
	var err error
	if len(ask) > 0 {
		claims := make(map[string]cloud.Target, len(ask))
		for _, id := range ask {
			claims[id] = stated[id]
		}
		var got map[string]cloud.Target
		if got, err = p.InstanceTargets(ctx, claims); err != nil {
			err = fmt.Errorf("verify %d registered instances with the cloud (%s...): %w", len(ask), ask[0], err)
			for _, id := range ask {
				if _, had := c.entries[id]; !had {
					out[id] = InstanceCheck{Err: cloud.Redact(textline.Join(err.Error(), " "))}
				}
			}
		} else {
			for _, id := range ask {
				t, ok := got[id]
				misses := 0
				if !ok {
					misses = c.entries[id].misses + 1
				}
				c.entries[id] = targetEntry{target: t, known: ok, stated: stated[id], at: now, misses: misses}
			}
		}
	}
	for id, e := range c.entries {
		out[id] = InstanceCheck{Listed: e.known, Target: e.target}
	}
	return out, err
}

// forget drops an instance's answer (its record was forgotten).
func (c *targetCache) forget(instance string) { delete(c.entries, instance) }
