package status

import (
	"reflect"
	"sync"
	"testing"
	"time"
)

// handClock is a clock the test moves by hand.
type handClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *handClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *handClock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

func TestHeartbeat(t *testing.T) {
	clock := &handClock{now: t0}
	h := NewHeartbeat(clock.Now)
	if err := h.Check(); err != nil {
		t.Fatalf("nothing watched yet: %v", err)
	}
	h.Beat("agent") // not watched: ignored
	if got := h.Loops(); len(got) != 0 {
		t.Fatalf("a beat of an unwatched loop created it: %+v", got)
	}

	h.Watch("agent", 90*time.Second)
	h.Watch("reconciler", time.Minute)
	clock.Advance(50 * time.Second)
	h.Beat("agent")
	if err := h.Check(); err != nil {
		t.Fatalf("every loop within its allowance: %v", err)
	}
	clock.Advance(10 * time.Second) // reconciler silent for exactly its allowance: still fine
	if err := h.Check(); err != nil {
		t.Fatalf("at the allowance: %v", err)
	}
	clock.Advance(10 * time.Second) // reconciler silent 70 s of 60, agent 20 s of 90
	err := h.Check()
	want := "loop reconciler stuck: no progress since 2025-06-01T12:00:00Z (1m10s ago, allowed 1m0s)"
	if err == nil || err.Error() != want {
		t.Fatalf("Check = %v\nwant %s", err, want)
	}
	if since, stuck := h.Stuck("reconciler"); !stuck || !since.Equal(t0) {
		t.Fatalf("Stuck(reconciler) = %s %v", since, stuck)
	}
	if _, stuck := h.Stuck("agent"); stuck {
		t.Fatal("the agent is not stuck")
	}
	wantLoops := []LoopStatus{
		{Name: "reconciler", LastBeat: t0, Allowance: time.Minute, Stuck: true},
		{Name: "agent", LastBeat: t0.Add(50 * time.Second), Allowance: 90 * time.Second},
	}
	if got := h.Loops(); !reflect.DeepEqual(got, wantLoops) {
		t.Fatalf("Loops = %+v\nwant %+v", got, wantLoops)
	}

	h.Beat("reconciler") // progress again: healthy again
	if err := h.Check(); err != nil {
		t.Fatalf("after the reconciler beat again: %v", err)
	}

	clock.Advance(2 * time.Minute) // both stuck: the longer silence first
	err = h.Check()
	want = "loop agent stuck: no progress since 2025-06-01T12:00:50Z (2m20s ago, allowed 1m30s); " +
		"loop reconciler stuck: no progress since 2025-06-01T12:01:10Z (2m0s ago, allowed 1m0s)"
	if err == nil || err.Error() != want {
		t.Fatalf("Check = %v\nwant %s", err, want)
	}

	h.Forget("agent")
	if err := h.Check(); err == nil || err.Error() != "loop reconciler stuck: no progress since 2025-06-01T12:01:10Z (2m0s ago, allowed 1m0s)" {
		t.Fatalf("after forgetting the agent: %v", err)
	}
	h.Forget("reconciler")
	h.Beat("reconciler") // a late beat after Forget must not bring it back
	if err := h.Check(); err != nil {
		t.Fatalf("every loop forgotten: %v", err)
	}
	if _, stuck := h.Stuck("reconciler"); stuck {
		t.Fatal("a forgotten loop is not stuck")
	}

	// Watching again starts a fresh allowance from now.
	h.Watch("reconciler", time.Second)
	clock.Advance(time.Second)
	if err := h.Check(); err != nil {
		t.Fatalf("re-watched loop within its allowance: %v", err)
	}
	clock.Advance(time.Millisecond)
	if _, stuck := h.Stuck("reconciler"); !stuck {
		t.Fatal("re-watched loop past its allowance must be stuck")
	}
}

// Healthy loops are listed by name; the order does not depend on the map.
func TestHeartbeatLoopsOrder(t *testing.T) {
	clock := &handClock{now: t0}
	h := NewHeartbeat(clock.Now)
	for _, l := range []string{"registry", "agent", "reconciler", "election"} {
		h.Watch(l, time.Minute)
	}
	var names []string
	for _, l := range h.Loops() {
		names = append(names, l.Name)
	}
	if want := []string{"agent", "election", "reconciler", "registry"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("order %v, want %v", names, want)
	}
}

func TestHeartbeatConcurrent(t *testing.T) {
	h := NewHeartbeat(nil)
	h.Watch("loop", time.Hour)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 500 {
				h.Beat("loop")
				if err := h.Check(); err != nil {
					t.Error(err)
					return
				}
				_ = h.Loops()
			}
		})
	}
	wg.Wait()
}
