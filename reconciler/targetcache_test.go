package reconciler

import (
	"context"
	"testing"
	"time"
)

func TestUnknownRetryAfter(t *testing.T) {
	const ceiling = 10 * time.Minute
	tests := []struct {
		misses int
		want   time.Duration
	}{
		{0, unknownRetry},
		{1, unknownRetry},
		{2, 2 * unknownRetry},
		{3, 4 * unknownRetry},
		{4, 8 * unknownRetry},
		{5, 16 * unknownRetry}, // 8 min
		{6, ceiling},           // 16 min, capped
		{1000, ceiling},
	}
	for _, tt := range tests {
		if got := unknownRetryAfter(tt.misses, ceiling); got != tt.want {
			t.Errorf("unknownRetryAfter(%d, %s) = %s, want %s", tt.misses, ceiling, got, tt.want)
		}
	}
}

// An instance the cloud did not list is asked about again after 30 s (a
// host the API lists late is admitted then), and less often the longer it
// stays unlisted; once listed, it is admitted and verified again only
// every refresh period.
func TestPassAsksAboutAnUnlistedInstanceLessOften(t *testing.T) {
	f := newFake("vtb-1")
	now := t0
	l, _ := newTestLoop(t, f, func(c *LoopConfig) { c.Now = func() time.Time { return now } })
	rec := host("i-late", 1, "10.1.0.0/24", 0)
	step := func(at time.Duration, wantAsks int, wantAdmitted bool) {
		t.Helper()
		now = t0.Add(at)
		rec.Revision++ // a heartbeat: never silent
		rep := l.Pass(context.Background(), []Host{rec}, "resync")
		if c := f.calls0(); c["InstanceTargets"] != wantAsks {
			t.Errorf("at %s: %d InstanceTargets calls, want %d", at, c["InstanceTargets"], wantAsks)
		}
		if admitted := len(rep.RefusedHosts) == 0; admitted != wantAdmitted {
			t.Errorf("at %s: admitted %v, want %v (refused %+v)", at, admitted, wantAdmitted, rep.RefusedHosts)
		}
	}
	f.unlisted["i-late"] = true
	step(0, 1, false)
	step(29*time.Second, 0, false)
	step(30*time.Second, 1, false) // second miss: next in 60 s
	step(89*time.Second, 0, false)
	step(90*time.Second, 1, false) // third miss: next in 120 s
	step(209*time.Second, 0, false)
	delete(f.unlisted, "i-late")
	step(210*time.Second, 1, true)
	step(240*time.Second, 0, true)
	f.unlisted["i-late"] = true // e.g. moved away: noticed at the refresh
	step(210*time.Second+DefaultNetworkRefresh, 1, false)
	step(240*time.Second+DefaultNetworkRefresh, 1, false) // a first miss again: 30 s
}
