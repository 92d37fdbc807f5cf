package aws

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	awsv2 "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

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
	if err := p.ReplaceRoutes(context.Background(), simTable, []cloud.Route{simRoute("10.0.0.0/24", simENIA)}); err != nil {
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

// tagENI sets vpcroute:cluster=value on eni, as another cluster's
// PrepareHost (or an operator) would.
func tagENI(t *testing.T, p *Provider, eni, value string) {
	t.Helper()
	_, err := p.api.CreateTags(context.Background(), &ec2.CreateTagsInput{Resources: []string{eni},
		Tags: []types.Tag{{Key: awsv2.String(TagKey), Value: awsv2.String(value)}}})
	if err != nil {
		t.Fatal(err)
	}
}

// staleCopy lists the default table and returns the route to dst, owned
// by the cluster: the copy a caller holds from an earlier listing.
func staleCopy(t *testing.T, p *Provider, dst string) cloud.Route {
	t.Helper()
	rs, err := p.Routes(context.Background(), simTable)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Destination.String() == dst {
			if !r.OwnedBy(testCluster) {
				t.Fatalf("%s is not owned before the change: %+v", dst, r)
			}
			return r
		}
	}
	t.Fatalf("no route to %s", dst)
	return cloud.Route{}
}

// simInstC is a third instance whose ENI another cluster tags.
const (
	simInstC = "i-0cccccccccccccccc"
	simENIC  = "eni-0cccccccccccccccc"
)

func withInstanceC(topo *sim.Topology) {
	topo.Instances = append(topo.Instances, sim.InstanceSpec{ID: simInstC, PrivateIP: "192.168.1.198", ENI: simENIC})
}

// A caller's copy of a route, owned when it was listed, decides nothing:
// the delete goes by the table as it is when the delete is sent. Each case
// changes the route after the caller's listing.
func TestSimDeleteRechecksOwnershipOfAStaleCopy(t *testing.T) {
	for _, tt := range []struct {
		name   string
		change func(t *testing.T, ts *sim.TestServer, p *Provider)
		// refused: the delete is an error naming the route; otherwise it
		// is success (the route the caller meant is gone), without a write.
		refused bool
		after   string // the route to 10.1.0.0/24 afterwards
	}{
		{"ENI now another cluster's", func(t *testing.T, _ *sim.TestServer, p *Provider) { tagENI(t, p, simENIB, "prod") },
			true, simENIB},
		{"ENI tag cleared", func(t *testing.T, _ *sim.TestServer, p *Provider) { tagENI(t, p, simENIB, "") },
			true, simENIB},
		{"moved to another host of the cluster", func(t *testing.T, ts *sim.TestServer, _ *Provider) {
			putRoute(t, ts, "10.1.0.0/24", simENIA)
		}, false, simENIA},
		{"moved to another cluster's host", func(t *testing.T, ts *sim.TestServer, p *Provider) {
			tagENI(t, p, simENIC, "prod")
			putRoute(t, ts, "10.1.0.0/24", simENIC)
		}, false, simENIC},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ts := newSim(t, withInstanceC)
			prepare(t, ts, simInstA, simInstB)
			putRoute(t, ts, "10.1.0.0/24", simENIB)
			p := simProvider(t, ts, simInstA, nil)
			stale := staleCopy(t, p, "10.1.0.0/24")
			tt.change(t, ts, p)
			ts.ResetStats()
			err := p.DeleteRoutes(context.Background(), simTable, []cloud.Route{stale})
			switch {
			case tt.refused && (err == nil || !strings.Contains(err.Error(), "refusing to delete 10.1.0.0/24 -> NetworkInterface/"+simENIB)):
				t.Errorf("err = %v, want a refusal", err)
			case !tt.refused && err != nil:
				t.Errorf("err = %v", err)
			}
			if st := ts.Stats(); st.Writes != 0 {
				t.Errorf("%d writes: %v", st.Writes, st.Actions)
			}
			if got := simTarget(t, ts, "10.1.0.0/24"); got != tt.after {
				t.Errorf("10.1.0.0/24 -> %q afterwards, want %s", got, tt.after)
			}
		})
	}
}

// ReplaceRoutes takes a destination from its holder only when the table,
// read just before, shows the holder is the cluster's, whatever the
// caller's route says.
func TestSimReplaceRechecksOwnership(t *testing.T) {
	for _, tt := range []struct {
		name   string
		change func(t *testing.T, ts *sim.TestServer, p *Provider)
		holder string // the ENI left holding 10.0.0.0/24
	}{
		{"holder's ENI now another cluster's", func(t *testing.T, _ *sim.TestServer, p *Provider) { tagENI(t, p, simENIB, "prod") }, simENIB},
		{"holder's ENI tag cleared", func(t *testing.T, _ *sim.TestServer, p *Provider) { tagENI(t, p, simENIB, "") }, simENIB},
		{"moved to another cluster's host", func(t *testing.T, ts *sim.TestServer, p *Provider) {
			tagENI(t, p, simENIC, "prod")
			putRoute(t, ts, "10.0.0.0/24", simENIC)
		}, simENIC},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ts := newSim(t, withInstanceC)
			prepare(t, ts, simInstA, simInstB)
			putRoute(t, ts, "10.0.0.0/24", simENIB)
			p := simProvider(t, ts, simInstA, nil)
			staleCopy(t, p, "10.0.0.0/24") // owned when the reconciler planned the move
			tt.change(t, ts, p)
			move := simRoute("10.0.0.0/24", simENIA)
			move.Cluster = testCluster // the route the reconciler wants, marked as the cluster's
			ts.ResetStats()
			err := p.ReplaceRoutes(context.Background(), simTable, []cloud.Route{move})
			if err == nil || !strings.Contains(err.Error(), "refusing to replace 10.0.0.0/24: it is held by") {
				t.Errorf("err = %v, want a refusal", err)
			}
			if st := ts.Stats(); st.Writes != 0 {
				t.Errorf("%d writes: %v", st.Writes, st.Actions)
			}
			if got := simTarget(t, ts, "10.0.0.0/24"); got != tt.holder {
				t.Errorf("10.0.0.0/24 -> %q afterwards, want %s", got, tt.holder)
			}
		})
	}
}

// simTarget returns the next hop of dst in the default table, or "".
func simTarget(t *testing.T, ts *sim.TestServer, dst string) string {
	t.Helper()
	for _, tb := range ts.Routes() {
		if tb.ID != simTable {
			continue
		}
		for _, e := range tb.Entries {
			if e.Destination == dst {
				return e.NextHopID
			}
		}
	}
	return ""
}
