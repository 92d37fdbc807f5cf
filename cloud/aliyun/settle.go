package aliyun

import (
	"net/netip"
	"sync"
	"time"

	"github.com/vpcroute/vpcroute/cloud"
)

// Alibaba takes one route change per VPC at a time and keeps it Pending
// (Modifying, Deleting) for a while that depends on the region and the
// VPC, not on the change. The provider learns that while from what its
// listings show, and polls a change in flight around the moment it is
// expected to end, instead of on a fixed schedule that notices it up to a
// poll interval late and makes the next change wait for that.

// Poll pacing.
const (
	// firstPoll and slowPoll shape the polls while no settle time is known
	// (or the change's start is not): 200 ms growing by half up to 500 ms.
	firstPoll = 200 * time.Millisecond
	slowPoll  = 500 * time.Millisecond
	// minFine and maxFine bound the interval near the expected end: a
	// sixteenth of the settle time.
	minFine = 50 * time.Millisecond
	maxFine = 250 * time.Millisecond
	// maxSleep is the longest wait between two listings, however far off
	// the expected end: the term, ctx and progress are checked that often.
	maxSleep = 5 * time.Second
	// settleWeight is the weight of a new observation in the average.
	settleWeight = 0.3
)

// pollDelay is how long to wait before listing again. untilEnd is the time
// left until the change awaited is expected to end (negative once past),
// expect the learned settle time; known is false when either is unknown,
// and step counts the listings made so far. Near the expected end the
// polls are fine-grained; past it they slow down again, up to slowPoll.
func pollDelay(untilEnd, expect time.Duration, known bool, step int) time.Duration {
	if !known || expect <= 0 {
		d := firstPoll
		for range step {
			d = d * 3 / 2
			if d >= slowPoll {
				return slowPoll
			}
		}
		return d
	}
	fine := min(max(expect/16, minFine), maxFine)
	if untilEnd > fine {
		// Wake up one fine step before the expected end.
		return min(untilEnd-fine, maxSleep)
	}
	late := max(-untilEnd, 0)
	return min(fine+late/4, max(slowPoll, fine))
}

// inFlight reports whether a listed entry is a change still being applied.
func inFlight(r cloud.Route) bool { return r.Status != cloud.StatusAvailable }

// settleClock learns the settle time of route changes in this provider's
// VPC from its listings, and knows, per table, the changes in flight and
// when each started (as closely as the listings tell).
type settleClock struct {
	mu sync.Mutex
	// expect is the moving average of observed settle times; 0 until the
	// first observation.
	expect time.Duration
	tables map[string]*tableWatch
}

// tableWatch is what the listings of one table showed.
type tableWatch struct {
	// listed is when the last listing was sent: a change first seen in the
	// next one started after it.
	listed  time.Time
	changes map[netip.Prefix]*change
}

// change is one entry in flight. It started in (after, by]; after is zero
// when that is not known (it was in flight at the first listing).
type change struct {
	after, by time.Time
	// seen is when the last listing that showed it in flight was sent;
	// zero if none did yet (a change of ours, just sent).
	seen time.Time
	// own marks a change this provider sent.
	own bool
}

func newSettleClock() *settleClock {
	return &settleClock{tables: map[string]*tableWatch{}}
}

func (c *settleClock) table(id string) *tableWatch {
	w := c.tables[id]
	if w == nil {
		w = &tableWatch{changes: map[netip.Prefix]*change{}}
		c.tables[id] = w
	}
	return w
}

// expected returns the learned settle time, 0 if none yet.
func (c *settleClock) expected() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.expect
}

// started notes changes of ours to dests, sent at sent and accepted at
// accepted.
func (c *settleClock) started(tableID string, dests []netip.Prefix, sent, accepted time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := c.table(tableID)
	for _, d := range dests {
		w.changes[d] = &change{after: sent, by: accepted, own: true}
	}
}

// listed takes in a listing of the table sent at sent and answered at
// done: changes that appeared start being watched, changes that ended give
// one observation (the mean of the listing's) to the average.
func (c *settleClock) listed(tableID string, routes []cloud.Route, sent, done time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := c.table(tableID)
	flying := map[netip.Prefix]bool{}
	for _, r := range routes {
		if !inFlight(r) {
			continue
		}
		flying[r.Destination] = true
		if ch := w.changes[r.Destination]; ch != nil {
			ch.seen = sent
			continue
		}
		w.changes[r.Destination] = &change{after: w.listed, by: done, seen: sent}
	}
	var sum time.Duration
	var n int
	for dst, ch := range w.changes {
		if flying[dst] {
			continue
		}
		delete(w.changes, dst)
		if d, ok := ch.settled(done); ok {
			sum += d
			n++
		}
	}
	if n > 0 {
		c.observe(sum / time.Duration(n))
	}
	w.listed = sent
}

// settled estimates how long ch took, ended by done: the middle of what
// the listings allow. A bracket wider than its middle says too little and
// is dropped, except for our own changes, whose start is known closely:
// one that was over before any listing showed it ends after the last.
func (ch *change) settled(done time.Time) (time.Duration, bool) {
	if ch.after.IsZero() {
		return 0, false
	}
	hi := done.Sub(ch.after)
	lo := time.Duration(0)
	if !ch.seen.IsZero() {
		lo = max(ch.seen.Sub(ch.by), 0)
	}
	mid := (lo + hi) / 2
	if hi-lo > mid && !ch.own {
		return 0, false
	}
	return mid, true
}

// observe adds one settle time to the moving average. Callers hold c.mu.
func (c *settleClock) observe(d time.Duration) {
	if c.expect == 0 {
		c.expect = d
		return
	}
	c.expect = time.Duration(settleWeight*float64(d) + (1-settleWeight)*float64(c.expect))
}

// untilEnd returns how long until every change in flight in the table is
// expected to have ended, measured from now, and the settle time it
// assumed; known is false when no settle time has been learned or a change
// in flight started at an unknown moment.
func (c *settleClock) untilEnd(tableID string, now time.Time) (left, expect time.Duration, known bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := c.table(tableID)
	if c.expect == 0 || len(w.changes) == 0 {
		return 0, c.expect, false
	}
	var end time.Time
	for _, ch := range w.changes {
		if ch.after.IsZero() || ch.by.Sub(ch.after) > c.expect {
			// Its start is unknown, or known too loosely to aim at.
			return 0, c.expect, false
		}
		origin := ch.after.Add(ch.by.Sub(ch.after) / 2)
		end = later(end, origin.Add(c.expect))
	}
	return end.Sub(now), c.expect, true
}

// nextPoll is pollDelay for the table now.
func (c *settleClock) nextPoll(tableID string, now time.Time, step int) time.Duration {
	left, expect, known := c.untilEnd(tableID, now)
	return pollDelay(left, expect, known, step)
}

// watched lists the tables listed so far, the VPC's tables as far as this
// provider knows them.
func (c *settleClock) watched() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.tables))
	for id := range c.tables {
		out = append(out, id)
	}
	return out
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
