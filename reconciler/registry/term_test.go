package registry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/cloud/aliyun"
	"github.com/vpcroute/vpcroute/cloud/sim"
	"github.com/vpcroute/vpcroute/reconciler"
	"github.com/vpcroute/vpcroute/reconciler/registry/etcdtest"
)

// lossGate sits in front of the simulator. When the leader's first poll
// of its first create batch is on the wire, it has the leader's lease
// revoked in etcd (what an operator, or an expiry while etcd was away,
// does), waits until the leader has seen its leadership end, and only then
// lets the poll through, counting the writes the simulator has had so far.
type lossGate struct {
	sim  *sim.Server
	next http.Handler
	lose func() error // revokes the lease and waits for Done

	mu       sync.Mutex
	batches  int   // CreateRouteEntries calls seen
	lost     bool  // the leadership has been lost
	loseErr  error // why losing it failed, if it did
	writesAt int   // the simulator's write count at the loss
}

func (g *lossGate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	switch action := r.URL.Query().Get("Action"); {
	case action == "CreateRouteEntries":
		g.batches++
	case action == "DescribeRouteEntryList" && g.batches == 1 && !g.lost:
		g.lost = true
		g.loseErr = g.lose()
		// Batch 1 becomes Available now: a leader still waiting for this
		// answer would send batch 2.
		g.sim.Settle()
		g.writesAt = g.sim.Stats().Writes
	}
	g.mu.Unlock()
	g.next.ServeHTTP(w, r)
}

// TestLeaderLosingItsLeaseMidConvergeWritesNothingMore is issue 10's
// "a test loses leadership in the middle of a long converge and asserts
// zero writes after the loss": real etcd, the real Alibaba provider on the
// simulator, a reconcile loop run under the leadership's context as the
// daemon runs it. Six hosts claim 150 subnets: three batches of 50, each
// held Pending until settled. The lease is revoked while batch 1 is being
// polled.
func TestLeaderLosingItsLeaseMidConvergeWritesNothingMore(t *testing.T) {
	ctx := testCtx(t)
	srv := etcdtest.Start(t)
	r, _ := openOn(t, srv, nil)
	raw := rawClient(t, srv)

	s, err := sim.New(sim.DefaultTopology(), sim.WithPendingDelay(time.Hour)) // Pending until Settle
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	var l *Leadership
	gate := &lossGate{sim: s, next: s.Handler(), lose: func() error {
		if _, err := raw.Revoke(ctx, l.lease); err != nil {
			return fmt.Errorf("revoke the leader's lease: %w", err)
		}
		select {
		case <-l.Done():
			return nil
		case <-ctx.Done():
			return errors.New("the leader never saw its lease revoked")
		}
	}}
	api := httptest.NewServer(gate)
	t.Cleanup(api.Close)

	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI-test")
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "test-secret")
	p, err := aliyun.New(ctx, aliyun.Options{
		Settings: cloud.Settings{
			Endpoint:         api.URL,
			MetadataEndpoint: api.URL + "/sim/v1/instances/i-aaa",
			RetryTimeout:     10 * time.Second,
			Cluster:          "lab",
		},
		ChangeTimeout: 10 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	// Six hosts of 25 subnets each: a record may claim at most
	// reconciler.MaxClaimsPerHost.
	hosts := []struct{ instance, ip string }{{"i-aaa", "192.168.1.196"}, {"i-bbb", "192.168.1.197"}}
	for i := 3; i <= 6; i++ {
		h := struct{ instance, ip string }{fmt.Sprintf("i-h%d", i), fmt.Sprintf("192.168.1.%d", 10+i)}
		if err := s.AddInstance(sim.InstanceSpec{ID: h.instance, PrivateIP: h.ip}); err != nil {
			t.Fatal(err)
		}
		hosts = append(hosts, h)
	}
	for i, h := range hosts {
		host := testHost(h.instance, h.ip, fmt.Sprintf("10.%d.0.0/24", i))
		host.LastSeen = time.Now()
		for j := 1; j < 25; j++ {
			host.Subnets = append(host.Subnets, reconciler.Claim{Subnet: netip.MustParsePrefix(fmt.Sprintf("10.%d.%d.0/24", i, j)), Since: host.Subnets[0].Since})
		}
		if err := r.Publish(ctx, host); err != nil {
			t.Fatal(err)
		}
	}
	loop, err := reconciler.NewLoop(reconciler.LoopConfig{Cluster: "lab", ClusterCIDR: netip.MustParsePrefix("10.0.0.0/8"),
		Provider: p, Identity: "i-aaa"})
	if err != nil {
		t.Fatal(err)
	}

	l = mustLead(t, r, LeaderInfo{Instance: "i-aaa"})
	feed := reconciler.NewHostFeed()
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go func() { _ = r.WatchHosts(watchCtx, feed.Send) }()
	ran := make(chan error, 1)
	go func() { ran <- loop.Run(l.Context(), feed.C()) }()
	select {
	case err = <-ran:
	case <-ctx.Done():
		t.Fatal("the loop did not stop with its leadership")
	}
	api.Close() // waits for every request that reached the simulator

	gate.mu.Lock()
	defer gate.mu.Unlock()
	if !gate.lost || gate.loseErr != nil {
		t.Fatalf("leadership not lost mid-converge (%d batches sent): %v; loop: %v", gate.batches, gate.loseErr, err)
	}
	st := s.Stats()
	after := st.Writes - gate.writesAt
	t.Logf("leadership ended (%v) after %d of 3 batches; writes after the loss: %d", l.Err(), gate.batches, after)
	if after != 0 {
		t.Errorf("%d writes reached the cloud after the leadership was lost: %v", after, st.Actions)
	}
	if n := st.Calls("CreateRouteEntries"); n != 1 {
		t.Errorf("CreateRouteEntries calls = %d, want the first batch only", n)
	}
	owned := 0
	for _, tbl := range s.Routes() {
		for _, e := range tbl.Entries {
			if e.NextHopType == cloud.TargetInstance && (e.NextHopID == "i-aaa" || e.NextHopID == "i-bbb") {
				owned++
			}
		}
	}
	if owned != 50 {
		t.Errorf("the table holds %d of the claimed routes, want the 50 of batch 1", owned)
	}
}
