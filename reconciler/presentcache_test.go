package reconciler

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/cloud"
)

// A record of an instance in another VPC is refused on every pass, but
// the cloud is asked whether that instance is gone once per NetworkRefresh,
// not once per pass: a heartbeat asks nothing, a record that starts stating
// something new is asked about again, an answer the cloud could not give
// is asked again next pass, and the record never creates anything.
func TestPassAsksAboutAForeignRecordOncePerRefresh(t *testing.T) {
	const refresh = 10 * time.Minute
	f := newFake("vtb-1")
	f.unlisted["i-other-vpc"] = true
	now := t0
	l, forgotten := newTestLoop(t, f, func(c *LoopConfig) {
		c.NetworkRefresh = refresh
		c.Now = func() time.Time { return now }
	})
	honest := host("i-aaa", 1, "10.1.0.0/24", 0)
	foreign := host("i-other-vpc", 2, "10.66.0.0/24", 0)
	foreign.Revision = 10
	step := func(name string, advance time.Duration, rec Host, wantGone int) {
		t.Helper()
		now = now.Add(advance)
		honest.Revision++ // it heartbeats: never silent, never asked about
		rep := l.Pass(context.Background(), []Host{honest, rec}, "resync")
		c := f.calls0()
		if c["GoneTargets"] != wantGone {
			t.Errorf("%s: %d GoneTargets calls, want %d (all calls %v)", name, c["GoneTargets"], wantGone, c)
		}
		if len(rep.RefusedHosts) != 1 || rep.RefusedHosts[0].Instance != "i-other-vpc" ||
			!strings.Contains(rep.RefusedHosts[0].Reason, "not listed by the cloud in this VPC") {
			t.Fatalf("%s: refused %+v, want i-other-vpc not listed", name, rep.RefusedHosts)
		}
		if got := f.state(); got != "+vtb-1:10.1.0.0/24>i-aaa" {
			t.Fatalf("%s: tables %q: the refused record must not create anything", name, got)
		}
	}
	step("first pass", 0, foreign, 1)
	for i := range 4 {
		step("steady pass", 5*time.Second+time.Duration(i), foreign, 0)
	}
	for range 3 {
		foreign.Revision++ // a heartbeat: LastSeen rewritten, nothing new stated
		foreign.LastSeen = now
		step("heartbeat", time.Second, foreign, 0)
	}
	foreign.Subnets = append(foreign.Subnets, Claim{Subnet: pfx("10.67.0.0/24"), Since: t0})
	step("a new claim", time.Second, foreign, 1)
	step("steady after the new claim", time.Second, foreign, 0)
	step("a refresh period later", refresh, foreign, 1)
	step("steady again", time.Second, foreign, 0)

	f.goneErr = errors.New("Throttling")
	step("the cloud cannot answer", refresh, foreign, 1)
	f.goneErr = nil
	step("asked again after an error", time.Second, foreign, 1)
	step("steady after the error", time.Second, foreign, 0)

	// Its instance is released: the record goes once the cloud is asked
	// again, not earlier.
	f.gone["i-other-vpc"] = true
	step("released, answer still fresh", time.Second, foreign, 0)
	if len(*forgotten) != 0 {
		t.Fatalf("forgotten %v before the cloud was asked", *forgotten)
	}
	now = now.Add(refresh)
	honest.Revision++
	rep := l.Pass(context.Background(), []Host{honest, foreign}, "resync")
	if c := f.calls0(); c["GoneTargets"] != 1 || strings.Join(*forgotten, " ") != "i-other-vpc" {
		t.Fatalf("after a refresh period: calls %v, forgotten %v (report %+v)", c, *forgotten, rep)
	}
}

// A refused record that was accepted meanwhile, or left the registry, is
// asked about afresh when it is refused again.
func TestPassAsksAgainAboutARecordRefusedAgain(t *testing.T) {
	f := newFake("vtb-1")
	l, _ := newTestLoop(t, f, nil)
	rec := host("i-bbb", 2, "10.2.0.0/24", 0)
	pass := func(hosts ...Host) map[string]int {
		l.Pass(context.Background(), hosts, "registry")
		return f.calls0()
	}
	f.unlisted["i-bbb"] = true
	if c := pass(rec); c["GoneTargets"] != 1 {
		t.Fatalf("first refusal: %v", c)
	}
	if c := pass(); c["GoneTargets"] != 0 {
		t.Fatalf("record gone from the registry: %v", c)
	}
	if c := pass(rec); c["GoneTargets"] != 1 {
		t.Fatalf("the record is back and refused: asked again: %v", c)
	}
}

func TestPresentCache(t *testing.T) {
	const ttl = time.Minute
	rec := host("i-x", 1, "10.1.0.0/24", 0)
	refused := []RefusedHost{{Instance: "i-x"}}
	asked := []cloud.Target{instanceTarget("i-x")}
	moved := rec
	moved.Subnets = []Claim{{Subnet: pfx("10.9.0.0/24")}}
	heartbeat := rec
	heartbeat.Revision, heartbeat.LastSeen = 99, t0.Add(time.Hour)
	tests := []struct {
		name    string
		note    func(c *presentCache) // what the cloud said at t0
		at      time.Duration         // when unknown is asked, after t0
		hosts   []Host
		refused []RefusedHost
		want    int // records to ask about
	}{
		{"never asked", func(*presentCache) {}, 0, []Host{rec}, refused, 1},
		{"present, fresh", func(c *presentCache) { c.note([]Host{rec}, refused, asked, nil, t0) }, ttl - 1, []Host{rec}, refused, 0},
		{"present, a ttl ago", func(c *presentCache) { c.note([]Host{rec}, refused, asked, nil, t0) }, ttl, []Host{rec}, refused, 1},
		{"present, heartbeat since", func(c *presentCache) { c.note([]Host{rec}, refused, asked, nil, t0) }, 0, []Host{heartbeat}, refused, 0},
		{"present, claims changed since", func(c *presentCache) { c.note([]Host{rec}, refused, asked, nil, t0) }, 0, []Host{moved}, refused, 1},
		{"gone", func(c *presentCache) {
			c.note([]Host{rec}, refused, asked, nil, t0)
			c.note([]Host{rec}, refused, asked, map[cloud.Target]bool{instanceTarget("i-x"): true}, t0)
		}, 0, []Host{rec}, refused, 1},
		{"refused but not asked (its instance was not looked up)", func(c *presentCache) { c.note([]Host{rec}, refused, nil, nil, t0) }, 0, []Host{rec}, refused, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newPresentCache(ttl)
			tt.note(c)
			if got := c.unknown(tt.hosts, tt.refused, t0.Add(tt.at)); len(got) != tt.want {
				t.Errorf("unknown = %v, want %d to ask about", got, tt.want)
			}
		})
	}
	t.Run("accepted meanwhile", func(t *testing.T) {
		c := newPresentCache(ttl)
		c.note([]Host{rec}, refused, asked, nil, t0)
		c.unknown([]Host{rec}, nil, t0)
		if got := c.unknown([]Host{rec}, refused, t0); len(got) != 1 {
			t.Errorf("a record refused again after being accepted: unknown = %v, want it asked about", got)
		}
	})
}
