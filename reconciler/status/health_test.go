package status

import (
	"sync"
	"testing"
	"time"
)

func TestHeartbeat(t *testing.T) {
	var mu sync.Mutex
	now := t0
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }

	h := NewHeartbeat(clock)
	check := h.Check(time.Minute)
	if err := check(); err != nil {
		t.Fatalf("no loop has beaten yet: %v", err)
	}
	h.Beat("agent")
	h.Beat("reconciler")
	advance(50 * time.Second)
	h.Beat("agent")
	if err := check(); err != nil {
		t.Fatalf("every loop within a minute: %v", err)
	}
	advance(20 * time.Second) // reconciler silent for 70 s, agent for 20 s
	err := check()
	if err == nil || err.Error() != "loop reconciler has not run for 1m10s (allowed 1m0s)" {
		t.Fatalf("check = %v", err)
	}
	h.Beat("reconciler")
	if err := check(); err != nil {
		t.Fatalf("after the reconciler beat again: %v", err)
	}
	advance(2 * time.Minute) // both silent: the longer silence is named
	h2 := h.Check(90 * time.Second)
	if err := h2(); err == nil || err.Error() != "loop agent has not run for 2m20s (allowed 1m30s)" {
		t.Fatalf("check = %v", err)
	}
	h.Forget("agent")
	if err := h2(); err == nil || err.Error() != "loop reconciler has not run for 2m0s (allowed 1m30s)" {
		t.Fatalf("check after forgetting the agent = %v", err)
	}
	h.Forget("reconciler")
	if err := h2(); err != nil {
		t.Fatalf("check with every loop forgotten = %v", err)
	}
}

func TestHeartbeatConcurrent(t *testing.T) {
	h := NewHeartbeat(nil)
	check := h.Check(time.Hour)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 500 {
				h.Beat("loop")
				if err := check(); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}
