package status

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Heartbeat tells /healthz whether the daemon's loops still turn. Each
// loop is watched with an allowance and beats on every turn and every step
// of a long operation (a cloud call attempt, a batch, a poll, an etcd
// answer); Check fails once a watched loop has not beaten for longer than
// its allowance. A stuck loop thus makes the process unhealthy, while a
// long pass that keeps making progress, a slow cloud or an unreachable
// registry (readiness and status matter there) does not.
//
// The zero value is not usable; create it with NewHeartbeat. It is safe for
// concurrent use.
type Heartbeat struct {
	mu    sync.Mutex
	now   func() time.Time
	loops map[string]*loopBeat
}

type loopBeat struct {
	last      time.Time
	allowance time.Duration
}

// LoopStatus is one watched loop as /status shows it.
type LoopStatus struct {
	// Name is the loop: "agent", "reconciler", "election", "registry".
	Name string `json:"name"`
	// LastBeat is when the loop last showed progress (or was started).
	LastBeat time.Time `json:"lastBeat"`
	// Allowance is how long it may go without a beat before it counts as
	// stuck.
	Allowance time.Duration `json:"allowanceNs"`
	// Stuck is true once the allowance has passed without a beat: the
	// daemon fails /healthz and stops petting systemd's watchdog.
	Stuck bool `json:"stuck"`
}

// NewHeartbeat returns a Heartbeat reading the clock now (nil: time.Now).
func NewHeartbeat(now func() time.Time) *Heartbeat {
	if now == nil {
		now = time.Now
	}
	return &Heartbeat{now: now, loops: map[string]*loopBeat{}}
}

// Watch starts checking the named loop: it counts as having beaten now and
// must beat again within allowance. Watching a loop again restarts it
// with the new allowance.
func (h *Heartbeat) Watch(loop string, allowance time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.loops[loop] = &loopBeat{last: h.now(), allowance: allowance}
}

// Beat records that the named loop is alive now. A loop that is not
// watched is ignored, so that a late beat cannot bring back a loop that
// was forgotten.
func (h *Heartbeat) Beat(loop string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if b, ok := h.loops[loop]; ok {
		b.last = h.now()
	}
}

// Forget stops checking the named loop, for a loop that ends on purpose
// (the reconciler when this process stops leading).
func (h *Heartbeat) Forget(loop string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.loops, loop)
}

// Stuck reports whether the named loop is watched and has gone longer than
// its allowance without a beat, and since when it has not beaten.
func (h *Heartbeat) Stuck(loop string) (since time.Time, stuck bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	b, ok := h.loops[loop]
	if !ok {
		return time.Time{}, false
	}
	return b.last, h.now().Sub(b.last) > b.allowance
}

// Check is the liveness check of /healthz and the systemd watchdog: nil
// while every watched loop beat within its allowance, else one line
// naming each stuck loop (the longest silent first), since when it has not
// beaten and what it is allowed.
func (h *Heartbeat) Check() error {
	now, loops := h.snapshot()
	var stuck []string
	for _, l := range loops {
		if l.Stuck {
			stuck = append(stuck, fmt.Sprintf("loop %s stuck: no progress since %s (%s ago, allowed %s)",
				l.Name, l.LastBeat.UTC().Format(time.RFC3339), now.Sub(l.LastBeat).Round(time.Millisecond), l.Allowance))
		}
	}
	if len(stuck) == 0 {
		return nil
	}
	return errors.New(strings.Join(stuck, "; "))
}

// Loops returns every watched loop, the stuck ones first (longest silent
// first), then the others by name.
func (h *Heartbeat) Loops() []LoopStatus {
	_, loops := h.snapshot()
	return loops
}

// snapshot returns the clock's time and the loops as of that time, sorted
// as Loops says.
func (h *Heartbeat) snapshot() (time.Time, []LoopStatus) {
	h.mu.Lock()
	now := h.now()
	out := make([]LoopStatus, 0, len(h.loops))
	for name, b := range h.loops {
		out = append(out, LoopStatus{Name: name, LastBeat: b.last, Allowance: b.allowance,
			Stuck: now.Sub(b.last) > b.allowance})
	}
	h.mu.Unlock()
	slices.SortFunc(out, func(a, b LoopStatus) int {
		switch {
		case a.Stuck != b.Stuck:
			if a.Stuck {
				return -1
			}
			return 1
		case a.Stuck && !a.LastBeat.Equal(b.LastBeat):
			return a.LastBeat.Compare(b.LastBeat)
		}
		return strings.Compare(a.Name, b.Name)
	})
	return now, out
}
