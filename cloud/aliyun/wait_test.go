package aliyun

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/cloud/sim"
)

// An entry that stays Pending (or Deleting) longer than the provider waits
// is an error naming the entry and the wait, never taken as done.
func TestChangeOutlastingTheWaitIsAnError(t *testing.T) {
	const wait = 300 * time.Millisecond
	// The simulator holds every change far longer than the provider waits.
	f := newFixture(t, nil, sim.WithPendingDelay(time.Hour))
	t.Setenv(envAccessKeyID, "LTAI-test")
	t.Setenv(envAccessKeySecret, "test-secret")
	p, err := New(context.Background(), Options{
		Settings: cloud.Settings{
			Endpoint:         f.url,
			MetadataEndpoint: f.url + "/sim/v1/instances/i-aaa",
			RetryTimeout:     20 * time.Second,
			Cluster:          testCluster,
		},
		ChangeTimeout: wait,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	err = p.CreateRoutes(ctx, "vtb-lab", []cloud.Route{route("10.0.0.0/24", "i-aaa")})
	want := "routes in vtb-lab not Available after 300ms: 10.0.0.0/24 -> Instance/i-aaa (Pending)"
	if err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("create: err = %v\nwant it to contain %q", err, want)
	}

	// The entry is still Pending: let it end, then delete it and hold the
	// deletion.
	f.sim.Settle()
	err = p.DeleteRoutes(ctx, "vtb-lab", []cloud.Route{route("10.0.0.0/24", "i-aaa")})
	want = "routes in vtb-lab not deleted after 300ms: 10.0.0.0/24 -> Instance/i-aaa (Deleting)"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("delete: err = %v\nwant it to contain %q", err, want)
	}
}

// A caller that gives up (a deposed leader) ends the wait with its own
// reason, not as a timeout of the change.
func TestWaitEndsWithTheCaller(t *testing.T) {
	f := newFixture(t, nil, sim.WithPendingDelay(time.Hour))
	p := f.provider(t, "i-aaa")
	ctx, cancel := context.WithCancel(context.Background())
	// Cancel as soon as the create is sent: the wait is what ends.
	f.sim.ResetStats()
	go func() {
		for f.sim.Stats().Count("CreateRouteEntry", "ok") == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	err := p.CreateRoutes(ctx, "vtb-lab", []cloud.Route{route("10.0.0.0/24", "i-aaa")})
	if err == nil || !errors.Is(err, context.Canceled) || strings.Contains(err.Error(), "not Available after") {
		t.Errorf("err = %v, want the caller's cancellation", err)
	}
}

// A route that disappears from the table after it was created (the cloud
// lost it: the simulator restarted empty) ends the wait with an error
// after a few listings, instead of holding the pass for ChangeTimeout.
func TestCreatedRouteLostEndsTheWait(t *testing.T) {
	f := newFixture(t, nil, sim.WithPendingDelay(time.Hour))
	t.Setenv(envAccessKeyID, "LTAI-test")
	t.Setenv(envAccessKeySecret, "test-secret")
	p, err := New(context.Background(), Options{
		Settings: cloud.Settings{
			Endpoint:         f.url,
			MetadataEndpoint: f.url + "/sim/v1/instances/i-aaa",
			RetryTimeout:     20 * time.Second,
			Cluster:          testCluster,
		},
		ChangeTimeout: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for f.sim.Stats().Count("CreateRouteEntry", "ok")+f.sim.Stats().Count("CreateRouteEntries", "ok") == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		_ = f.sim.DeleteRoute("vtb-lab", "10.0.0.0/24") // lost by the cloud
	}()
	done := make(chan error, 1)
	go func() {
		done <- p.CreateRoutes(context.Background(), "vtb-lab", []cloud.Route{route("10.0.0.0/24", "i-aaa")})
	}()
	select {
	case err = <-done:
	case <-time.After(time.Minute):
		t.Fatal("the wait for a route the cloud lost still runs after a minute (ChangeTimeout is an hour)")
	}
	if want := "create route 10.0.0.0/24 -> Instance/i-aaa in vtb-lab: not listed in 5 listings in a row after it was created"; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v; want it to contain %q", err, want)
	}
}
