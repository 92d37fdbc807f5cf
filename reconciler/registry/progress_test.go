package registry

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/reconciler"
	"github.com/vpcroute/vpcroute/reconciler/registry/etcdtest"
)

// counter counts progress reports.
type counter struct{ n atomic.Int64 }

func (c *counter) ctx(parent context.Context) context.Context {
	return cloud.WithProgress(parent, func() { c.n.Add(1) })
}

// waitCount waits until the count has grown by at least by, or fails.
func (c *counter) waitGrowth(t *testing.T, what string, by int64, within time.Duration) {
	t.Helper()
	from := c.n.Load()
	deadline := time.Now().Add(within)
	for c.n.Load() < from+by {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d progress reports within %s, want at least %d", what, c.n.Load()-from, within, by)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A watch that sees no change still reports progress: it asks etcd for
// progress notifications, and etcd answers them (the watch is not rebuilt
// for it).
func TestWatchHostsReportsProgressWhileQuiet(t *testing.T) {
	srv := etcdtest.Start(t)
	r, logs := openOn(t, srv, func(o *Options) { o.WatchProgressInterval = 50 * time.Millisecond })
	var c counter
	ctx, cancel := context.WithCancel(c.ctx(context.Background()))
	lists := make(chan []reconciler.Host, 100)
	done := make(chan error, 1)
	go func() { done <- r.WatchHosts(ctx, func(h []reconciler.Host) { lists <- h }) }()
	<-lists // the first list: from here on nothing changes
	c.waitGrowth(t, "quiet watch", 10, 10*time.Second)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := logs.FilterMessage("host watch interrupted; retrying").Len(); n != 0 {
		t.Errorf("the quiet watch was rebuilt %d times: progress requests went unanswered", n)
	}
	if len(lists) != 0 {
		t.Errorf("%d lists reported without any change", len(lists))
	}
}

// While etcd is down the watch loop keeps turning (listing again with
// backoff) and says so; it is not stuck, etcd is away. When etcd is back
// the watch delivers changes again.
func TestWatchHostsReportsProgressWhileEtcdIsDown(t *testing.T) {
	srv := etcdtest.Start(t)
	r, _ := openOn(t, srv, func(o *Options) {
		o.WatchProgressInterval = 100 * time.Millisecond
		o.RequestTimeout = 500 * time.Millisecond
	})
	var c counter
	ctx, cancel := context.WithCancel(c.ctx(context.Background()))
	defer cancel()
	lists := make(chan []reconciler.Host, 100)
	go func() { _ = r.WatchHosts(ctx, func(h []reconciler.Host) { lists <- h }) }()
	waitFor(t, lists)
	c.waitGrowth(t, "watch established", 2, 5*time.Second) // the watch answers progress requests
	srv.Stop()
	c.waitGrowth(t, "watch with etcd down", 3, 3*r.MaxWatchSilence())
	srv.Restart()
	// The client reconnects with its own backoff, which may outlast one
	// 500 ms request on a loaded machine: what is tested is the watch.
	for deadline := time.Now().Add(15 * time.Second); ; {
		err := r.Publish(testCtx(t), testHost("i-aaa", "192.168.1.1", "10.1.0.0/24"))
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	waitFor(t, lists, "i-aaa")
}

// A candidate waiting behind a live leader reports progress (the wait is
// the election working); once it leads, every lease renewal does.
func TestCampaignReportsProgressWhileWaitingAndLeading(t *testing.T) {
	srv := etcdtest.Start(t)
	ra, _ := openOn(t, srv, nil)
	rb, _ := openOn(t, srv, nil)
	a := mustLead(t, ra, LeaderInfo{Instance: "i-aaa"})

	var c counter
	ch := campaignAsync(c.ctx(testCtx(t)), rb, LeaderInfo{Instance: "i-bbb"})
	// One report per attempt, then one per lease TTL while behind i-aaa.
	c.waitGrowth(t, "candidate behind a leader", 3, 4*testTTL)
	assertFollower(t, ch, "i-bbb")

	if err := a.Resign(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	b := awaitLeader(t, ch, 5*time.Second)
	// The keep-alive renews every TTL/3.
	c.waitGrowth(t, "leader keeping its lease", 3, 2*testTTL)
	if b.l.Err() != nil {
		t.Fatalf("leadership ended: %v", b.l.Err())
	}
}
