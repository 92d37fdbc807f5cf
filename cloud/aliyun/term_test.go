package aliyun

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/cloud/sim"
)

// termGate sits in front of the simulator and ends the leadership term
// when the first poll of the first create batch is on the wire: batch 1
// sent and Pending, batches 2 and 3 still to go.
type termGate struct {
	sim  *sim.Server
	next http.Handler
	end  func()

	mu        sync.Mutex
	batches   int  // CreateRouteEntries calls seen
	ended     bool // the term has been ended
	writesAt  int  // the simulator's write count when it was
	sawHeader bool // a request carried the call ID header to the cloud
}

func (g *termGate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	if r.Header.Get(callHeader) != "" {
		g.sawHeader = true
	}
	switch action := r.URL.Query().Get("Action"); {
	case action == "CreateRouteEntries":
		g.batches++
	case action == "DescribeRouteEntryList" && g.batches == 1 && !g.ended:
		g.ended = true
		g.end()
		// Batch 1 becomes Available now: this poll's answer, if anyone
		// still waited for it, would let batch 2 go.
		g.sim.Settle()
		g.writesAt = g.sim.Stats().Writes
	}
	g.mu.Unlock()
	g.next.ServeHTTP(w, r)
}

// TestEndedTermStopsAMultiBatchCreate: 150 routes go in three batches of
// 50, each held Pending by the simulator until settled. The term ends
// while the first batch is being polled; the simulator must receive no
// write after that.
func TestEndedTermStopsAMultiBatchCreate(t *testing.T) {
	s, err := sim.New(sim.DefaultTopology(), sim.WithPendingDelay(time.Hour)) // Pending until Settle
	if err != nil {
		t.Fatal(err)
	}
	errDeposed := errors.New("leadership lost")
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	gate := &termGate{sim: s, next: s.Handler(), end: func() { cancel(errDeposed) }}
	srv := httptest.NewServer(gate)
	defer func() { _ = s.Close() }()
	f := &fixture{sim: s, url: srv.URL}
	p := f.provider(t, "i-aaa")

	var routes []cloud.Route
	for i := range 150 {
		routes = append(routes, route(fmt.Sprintf("10.%d.%d.0/24", i/100, i%100), "i-aaa"))
	}
	err = p.CreateRoutes(ctx, "vtb-lab", routes)
	srv.Close() // waits for every request that reached the simulator

	gate.mu.Lock()
	defer gate.mu.Unlock()
	if !gate.ended {
		t.Fatalf("the term never ended: %d batches sent, err %v", gate.batches, err)
	}
	st := s.Stats()
	if after := st.Writes - gate.writesAt; after != 0 {
		t.Errorf("%d writes reached the simulator after the term ended: %v", after, st.Actions)
	}
	if n := st.Calls("CreateRouteEntries"); n != 1 {
		t.Errorf("CreateRouteEntries calls = %d, want the first batch only", n)
	}
	if !errors.Is(err, context.Canceled) || !errors.Is(err, errDeposed) {
		t.Errorf("CreateRoutes = %v; want it stopped by the ended term", err)
	}
	// The call ID header never leaves the process, and the signature the
	// simulator verified still held.
	if gate.sawHeader {
		t.Errorf("the %s header reached the cloud", callHeader)
	}
	if sig := s.Behaviour().Signature; sig != "verify" || st.Count("CreateRouteEntries", "ok") != 1 {
		t.Errorf("signature checking %q, stats %v: want the batch verified and accepted", sig, st.Actions)
	}
}
