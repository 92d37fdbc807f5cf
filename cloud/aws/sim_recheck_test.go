package aws

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/cloud/sim"
)

// These tests change the simulator's table between the provider's listing
// and its write, the window a concurrent change (an operator, another
// cluster, the cloud itself) falls into, and check what the write does.

// beforeAction runs hook once, just before the first request for action
// leaves the provider: after every call before it, the listing included.
type beforeAction struct {
	next   http.RoundTripper
	action string
	hook   func()
	once   sync.Once
}

func (b *beforeAction) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.GetBody != nil {
		body, err := r.GetBody()
		if err != nil {
			return nil, err
		}
		form, err := io.ReadAll(body)
		if err != nil {
			return nil, err
		}
		if v, err := url.ParseQuery(string(form)); err == nil && v.Get("Action") == b.action {
			b.once.Do(b.hook)
		}
	}
	return b.next.RoundTrip(r)
}

// hookedProvider is simProvider with hook run just before the first
// request for action.
func hookedProvider(t *testing.T, ts *sim.TestServer, instance, action string, hook func()) *Provider {
	return simProvider(t, ts, instance, func(o *Options) {
		c := *o.httpClient
		c.Transport = &beforeAction{next: c.Transport, action: action, hook: hook}
		o.httpClient = &c
	})
}

// putRoute puts dst -> eni in the default table behind the API's back.
func putRoute(t *testing.T, ts *sim.TestServer, dst, eni string) {
	t.Helper()
	if _, err := ts.PutRoute(sim.PutRouteRequest{Table: simTable, Destination: dst, NextHopType: "NetworkInterface", NextHopID: eni}); err != nil {
		t.Fatal(err)
	}
}

// EC2 answers a ReplaceRoute of a destination the table does not hold with
// InvalidParameterValue ("There is no route defined for ..."), as the
// simulator does; the route deleted since the listing is then created.
func TestSimReplaceOfADeletedRouteCreatesIt(t *testing.T) {
	ts := newSim(t, nil)
	prepare(t, ts, simInstA, simInstB)
	putRoute(t, ts, "10.0.0.0/24", simENIB)
	p := hookedProvider(t, ts, simInstA, "ReplaceRoute", func() {
		if err := ts.DeleteRoute(simTable, "10.0.0.0/24"); err != nil {
			t.Error(err)
		}
	})
	ts.ResetStats()
	if err := p.ReplaceRoutes(context.Background(), simTable, testCluster, []cloud.Route{simRoute("10.0.0.0/24", simENIA)}); err != nil {
		t.Fatalf("ReplaceRoutes: %v", err)
	}
	st := ts.Stats()
	if n := st.Count("ReplaceRoute", "InvalidParameterValue"); n != 1 {
		t.Errorf("ReplaceRoute answered InvalidParameterValue %d times, want 1: %v", n, st.Actions)
	}
	if n := st.Count("CreateRoute", "ok"); n != 1 {
		t.Errorf("CreateRoute succeeded %d times, want 1: %v", n, st.Actions)
	}
	if got := simOwned(t, p); fmt.Sprint(got) != "[10.0.0.0/24>"+simENIA+" Available]" {
		t.Errorf("owned = %v", got)
	}
}
