package status

import (
	"fmt"
	"sync"
	"time"
)

// Heartbeat tells /healthz whether the daemon's loops still turn: each loop
// calls Beat on every turn (and while idle, on a ticker shorter than the
// allowed age), and Check fails once one of them has not beaten for
// longer than allowed. A stuck loop thus makes the process unhealthy,
// while a slow cloud or an unreachable registry (readiness matters) does
// not.
//
// The zero value is not usable; create it with NewHeartbeat. It is safe for
// concurrent use.
type Heartbeat struct {
	mu    sync.Mutex
	now   func() time.Time
	beats map[string]time.Time
}

// NewHeartbeat returns a Heartbeat reading the clock now (nil: time.Now).
func NewHeartbeat(now func() time.Time) *Heartbeat {
	if now == nil {
		now = time.Now
	}
	return &Heartbeat{now: now, beats: map[string]time.Time{}}
}

// Beat records that the named loop is alive now.
func (h *Heartbeat) Beat(loop string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.beats[loop] = h.now()
}

// Forget stops checking the named loop, for a loop that ends on purpose
// (the reconciler after this process resigns leadership).
func (h *Heartbeat) Forget(loop string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.beats, loop)
}

// Check returns a liveness check for NewHandler: nil while every loop that
// has ever beaten did so within maxAge, else an error naming the silent
// loop. Loops that never beat are not checked (they may not have started).
func (h *Heartbeat) Check(maxAge time.Duration) func() error {
	return func() error {
		h.mu.Lock()
		defer h.mu.Unlock()
		now := h.now()
		var worst string
		var worstAge time.Duration
		for loop, t := range h.beats {
			if age := now.Sub(t); age > maxAge && (worst == "" || age > worstAge || (age == worstAge && loop < worst)) {
				worst, worstAge = loop, age
			}
		}
		if worst != "" {
			return fmt.Errorf("loop %s has not run for %s (allowed %s)", worst, worstAge.Round(time.Second), maxAge)
		}
		return nil
	}
}
