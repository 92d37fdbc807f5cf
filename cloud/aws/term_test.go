package aws

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"sync"
	"testing"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/cloud/sim"
)

// termGate sits in front of the simulator and ends the leadership term
// when the endAt-th CreateRoute arrives. That call is on the wire before
// the end and counts as sent; none may follow it.
type termGate struct {
	sim   *sim.Server
	next  http.Handler
	endAt int
	end   func()

	mu       sync.Mutex
	creates  int  // CreateRoute calls seen
	ended    bool // the term has been ended
	writesAt int  // the simulator's write count once the last call before the end was answered
}

func (g *termGate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// EC2's action is in the form body: read it, and hand the same bytes
	// on (the signature covers them).
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	form, _ := url.ParseQuery(string(body))
	g.mu.Lock()
	if form.Get("Action") == "CreateRoute" {
		g.creates++
	}
	if g.ended || g.creates != g.endAt {
		g.mu.Unlock()
		g.next.ServeHTTP(w, r)
		return
	}
	// Held under the lock: a request sent after the end waits here until
	// the count it must not change is taken.
	defer g.mu.Unlock()
	g.ended = true
	g.end()
	g.next.ServeHTTP(w, r)
	g.writesAt = g.sim.Stats().Writes
}

// TestEndedTermStopsACreate: 150 routes are created one by one; the term
// ends while the 60th is on the wire. The simulator must receive no write
// after it.
func TestEndedTermStopsACreate(t *testing.T) {
	// Neither quota nor throttling in the way: every CreateRoute call is
	// one route.
	s, err := sim.New(sim.DefaultAWSTopology(), sim.WithBehaviour(func(b *sim.Behaviour) {
		b.Quota, b.Throttle = 1000, sim.ThrottleSpec{}
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	errDeposed := errors.New("leadership lost")
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	gate := &termGate{sim: s, next: s.Handler(), endAt: 60, end: func() { cancel(errDeposed) }}
	api := httptest.NewServer(gate)
	md := httptest.NewServer(s.MetadataHandler(simInstA))
	defer md.Close()

	pinEnv(t, true)
	p, err := New(context.Background(), Options{
		Settings: cloud.Settings{
			Endpoint:         api.URL,
			MetadataEndpoint: md.URL,
			Cluster:          testCluster,
			ClusterCIDR:      netip.MustParsePrefix("10.0.0.0/8"),
		},
		MutatingRate: 1e6, MutatingBurst: 1000, // pacing is not what this test is about
		httpClient: loopbackClient(),
	})
	if err != nil {
		t.Fatal(err)
	}
	var routes []cloud.Route
	for i := range 150 {
		routes = append(routes, simRoute(fmt.Sprintf("10.%d.%d.0/24", i/100, i%100), simENIA))
	}
	err = p.CreateRoutes(ctx, simTable, routes)
	api.Close() // waits for every request that reached the simulator

	gate.mu.Lock()
	defer gate.mu.Unlock()
	if !gate.ended {
		t.Fatalf("the term never ended: %d creates, err %v", gate.creates, err)
	}
	st := s.Stats()
	if after := st.Writes - gate.writesAt; after != 0 {
		t.Errorf("%d writes reached the simulator after the term ended: %v", after, st.Actions)
	}
	if n := st.Count("CreateRoute", "ok"); n != gate.endAt || st.Calls("CreateRoute") != n {
		t.Errorf("CreateRoute calls: %v, want %d accepted and nothing else", st.Actions["CreateRoute"], gate.endAt)
	}
	if !errors.Is(err, context.Canceled) || !errors.Is(err, errDeposed) {
		t.Errorf("CreateRoutes = %v; want it stopped by the ended term", err)
	}
}
