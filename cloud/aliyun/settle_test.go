package aliyun

import (
	"net/netip"
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/cloud"
)

const ms = time.Millisecond

func TestPollDelay(t *testing.T) {
	tests := []struct {
		name             string
		untilEnd, expect time.Duration
		known            bool
		step             int
		want             time.Duration
	}{
		{"unknown: first poll", 0, 0, false, 0, 200 * ms},
		{"unknown: grows by half", 0, 0, false, 1, 300 * ms},
		{"unknown: third", 0, 0, false, 2, 450 * ms},
		{"unknown: capped at 500ms", 0, 0, false, 9, 500 * ms},
		{"no settle time learned", time.Second, 0, true, 0, 200 * ms},
		{"wakes one fine step before the end", 1900 * ms, 2 * time.Second, true, 0, 1775 * ms},
		{"far off: at most 5s", 30 * time.Second, 40 * time.Second, true, 0, 5 * time.Second},
		{"at the end: the fine step", 100 * ms, 2 * time.Second, true, 3, 125 * ms},
		{"just past: the fine step", -20 * ms, 2 * time.Second, true, 3, 130 * ms},
		{"late: slower by a quarter of the lateness", -400 * ms, 2 * time.Second, true, 3, 225 * ms},
		{"very late: 500ms", -10 * time.Second, 2 * time.Second, true, 3, 500 * ms},
		{"short settle: fine step at least 50ms", 0, 100 * ms, true, 0, 50 * ms},
		{"long settle: fine step at most 250ms", 0, time.Minute, true, 0, 250 * ms},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pollDelay(tt.untilEnd, tt.expect, tt.known, tt.step); got != tt.want {
				t.Errorf("pollDelay(%s, %s, %v, %d) = %s, want %s", tt.untilEnd, tt.expect, tt.known, tt.step, got, tt.want)
			}
		})
	}
}

func pending(dst string) cloud.Route {
	return cloud.Route{Destination: netip.MustParsePrefix(dst), Status: "Pending"}
}

func available(dst string) cloud.Route {
	return cloud.Route{Destination: netip.MustParsePrefix(dst), Status: cloud.StatusAvailable}
}

// A change seen to appear between two listings and to end between two
// others gives the middle of what those allow; the next change in flight
// is expected to end that long after its own start.
func TestSettleClockLearnsFromListings(t *testing.T) {
	c := newSettleClock()
	t0 := time.Unix(1000, 0)
	list := func(at time.Duration, rs ...cloud.Route) { c.listed("vtb", rs, t0.Add(at), t0.Add(at+10*ms)) }
	list(0)                                          // idle
	list(100*ms, pending("10.0.0.0/24"))             // appeared in (0, 110ms]
	list(1100*ms, pending("10.0.0.0/24"))            // still in flight at 1.1 s
	list(1300*ms, available("10.0.0.0/24"))          // over by 1.31 s
	if _, _, known := c.untilEnd("vtb", t0); known { // nothing in flight
		t.Error("untilEnd is known with nothing in flight")
	}
	// Settled in (1100-110, 1310-0) ms: 990..1310, middle 1150 ms.
	if got := c.expected(); got != 1150*ms {
		t.Fatalf("expected = %s, want 1.15s", got)
	}
	list(2000*ms, pending("10.1.0.0/24"), available("10.0.0.0/24")) // appeared in (1300, 2010] ms
	left, expect, known := c.untilEnd("vtb", t0.Add(2010*ms))
	// Start taken as 1655 ms, end 2805 ms: 795 ms from 2010 ms.
	if !known || expect != 1150*ms || left != 795*ms {
		t.Errorf("untilEnd = %s, %s, %v; want 795ms, 1.15s, true", left, expect, known)
	}
	if d := c.nextPoll("vtb", t0.Add(2010*ms), 1); d != 795*ms-1150*ms/16 {
		t.Errorf("nextPoll = %s, want one fine step before the expected end", d)
	}
	list(3000*ms, available("10.0.0.0/24"), available("10.1.0.0/24"))
	// Settled in (2000-2010, 3010-1300) = (0, 1710]: wider than its middle
	// (855 ms), so it says too little and is not taken.
	if got := c.expected(); got != 1150*ms {
		t.Errorf("expected = %s after a loose observation, want it unchanged at 1.15s", got)
	}
}

// A change in flight at the first listing started at an unknown moment:
// it gives no observation, and no expected end.
func TestSettleClockIgnoresChangesOfUnknownStart(t *testing.T) {
	c := newSettleClock()
	t0 := time.Unix(1000, 0)
	c.listed("vtb", []cloud.Route{pending("10.0.0.0/24")}, t0, t0)
	c.observe(time.Second)
	if _, _, known := c.untilEnd("vtb", t0); known {
		t.Error("the end of a change of unknown start is known")
	}
	c.listed("vtb", []cloud.Route{available("10.0.0.0/24")}, t0.Add(300*ms), t0.Add(300*ms))
	if got := c.expected(); got != time.Second {
		t.Errorf("expected = %s, want 1s (no observation)", got)
	}
}

// Our own change's start is known from the call; one already over at the
// first listing after it counts as half that time, and the average moves
// by settleWeight of each observation.
func TestSettleClockOwnChanges(t *testing.T) {
	c := newSettleClock()
	t0 := time.Unix(1000, 0)
	dst := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24")}
	c.started("vtb", dst, t0, t0.Add(10*ms))
	left, _, known := c.untilEnd("vtb", t0.Add(10*ms))
	if known {
		t.Errorf("untilEnd known (%s) before any settle time was learned", left)
	}
	c.listed("vtb", []cloud.Route{pending("10.0.0.0/24")}, t0.Add(200*ms), t0.Add(210*ms))
	c.listed("vtb", []cloud.Route{available("10.0.0.0/24")}, t0.Add(500*ms), t0.Add(510*ms))
	// In (200-10, 510-0): middle 350 ms.
	if got := c.expected(); got != 350*ms {
		t.Fatalf("expected = %s, want 350ms", got)
	}
	c.started("vtb", dst, t0.Add(time.Second), t0.Add(time.Second+10*ms))
	if left, _, known := c.untilEnd("vtb", t0.Add(time.Second+10*ms)); !known || left != 345*ms {
		t.Errorf("untilEnd = %s, %v; want 345ms (start taken as 1.005 s)", left, known)
	}
	c.listed("vtb", []cloud.Route{available("10.0.0.0/24")}, t0.Add(time.Second+100*ms), t0.Add(time.Second+110*ms))
	// Over within 110 ms and never seen in flight: 55 ms; 0.3·55 + 0.7·350.
	if got := c.expected(); got < 261500*time.Microsecond-time.Microsecond || got > 261500*time.Microsecond {
		t.Errorf("expected = %s, want 261.5ms", got)
	}
}
