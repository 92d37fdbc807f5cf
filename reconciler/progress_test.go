package reconciler

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/cloud"
)

// tracingProvider is a fakeProvider that writes each call into a trace
// shared with the progress hook, so a test sees the order of both.
type tracingProvider struct {
	*fakeProvider
	trace *trace
}

type trace struct {
	mu     sync.Mutex
	events []string
}

func (t *trace) add(e string) { t.mu.Lock(); defer t.mu.Unlock(); t.events = append(t.events, e) }

func (t *trace) String() string { t.mu.Lock(); defer t.mu.Unlock(); return strings.Join(t.events, " ") }

func (p *tracingProvider) Routes(ctx context.Context, table string) ([]cloud.Route, error) {
	p.trace.add("list:" + table)
	return p.fakeProvider.Routes(ctx, table)
}

func (p *tracingProvider) CreateRoutes(ctx context.Context, table string, rs []cloud.Route) error {
	p.trace.add("create:" + table)
	return p.fakeProvider.CreateRoutes(ctx, table, rs)
}

func (p *tracingProvider) DeleteRoutes(ctx context.Context, table string, rs []cloud.Route) error {
	p.trace.add("delete:" + table)
	return p.fakeProvider.DeleteRoutes(ctx, table, rs)
}

func (p *tracingProvider) GoneTargets(ctx context.Context, ts []cloud.Target) ([]cloud.Target, error) {
	p.trace.add("gone?")
	return p.fakeProvider.GoneTargets(ctx, ts)
}

// A pass reports progress after every table it reads, after asking the
// cloud which instances are gone, after every table it writes, and when it
// ends: a pass over many tables keeps the reconciler's heartbeat going
// between the providers' own steps.
func TestPassReportsProgressAtEveryPhase(t *testing.T) {
	tr := &trace{}
	f := &tracingProvider{fakeProvider: newFake("vtb-1", "vtb-2"), trace: tr}
	f.put(owned("vtb-1", "10.9.0.0/24", iA)) // i-aaa is gone: its route goes
	f.gone["i-aaa"] = true
	l, _ := newTestLoop(t, f.fakeProvider, func(c *LoopConfig) { c.Provider = f })
	ctx := cloud.WithProgress(context.Background(), func() { tr.add("+") })
	rep := l.Pass(ctx, []Host{host("i-bbb", 2, "10.2.0.0/24", 0)}, "start")
	if rep.Result != ResultOK || rep.Created != 2 || rep.Deleted != 1 {
		t.Fatalf("report %+v", rep)
	}
	want := "list:vtb-1 + list:vtb-2 + gone? + delete:vtb-1 create:vtb-1 + create:vtb-2 + +"
	if got := tr.String(); got != want {
		t.Fatalf("trace\n got %s\nwant %s", got, want)
	}
}

// Run reports progress on every turn: an idle loop beats at least once per
// resync period, before and after its passes.
func TestRunReportsProgressWhileIdle(t *testing.T) {
	f := newFake("vtb-1")
	var mu sync.Mutex
	beats := 0
	l, _ := newTestLoop(t, f, func(c *LoopConfig) { c.Resync = 20 * time.Millisecond; c.Now = time.Now })
	ctx, cancel := context.WithCancel(cloud.WithProgress(context.Background(), func() { mu.Lock(); beats++; mu.Unlock() }))
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx, make(chan []Host)) }() // no snapshot ever: never a pass
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return beats >= 5 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if c := f.calls0(); len(c) != 0 {
		t.Fatalf("an idle loop without a snapshot called the cloud: %v", c)
	}
}
