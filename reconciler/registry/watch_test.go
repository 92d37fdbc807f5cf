package registry

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/vpcroute/vpcroute/reconciler"
	"github.com/vpcroute/vpcroute/reconciler/registry/etcdtest"
)

// watchInto runs WatchHosts until the test ends and returns the channel of
// the lists it reports, and a channel closed with its return value.
func watchInto(t *testing.T, r *Registry) (<-chan []reconciler.Host, <-chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	lists := make(chan []reconciler.Host, 100)
	ret := make(chan error, 1)
	go func() {
		ret <- r.WatchHosts(ctx, func(h []reconciler.Host) { lists <- h })
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-ret:
			if err != nil {
				t.Errorf("WatchHosts returned %v after cancel, want nil", err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("WatchHosts did not return within 5s of cancel")
		}
	})
	return lists, ret
}

// waitFor reads lists until one has exactly the want instances.
func waitFor(t *testing.T, lists <-chan []reconciler.Host, want ...string) []reconciler.Host {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	timeout := time.After(10 * time.Second)
	var last []string
	for {
		select {
		case h := <-lists:
			last = instances(h)
			if reflect.DeepEqual(last, want) {
				return h
			}
		case <-timeout:
			t.Fatalf("WatchHosts never reported %v; last %v", want, last)
		}
	}
}

func TestWatchHostsSeesChangesAcrossEtcdRestart(t *testing.T) {
	srv := etcdtest.Start(t)
	r, logs := openOn(t, srv, nil)
	ctx := testCtx(t)
	if err := r.Publish(ctx, testHost("i-aaa", "192.168.1.1", "10.1.0.0/24")); err != nil {
		t.Fatal(err)
	}
	lists, _ := watchInto(t, r)
	first := waitFor(t, lists, "i-aaa")
	if first[0].Order == 0 {
		t.Fatal("initial list lacks Order")
	}

	if err := r.Publish(ctx, testHost("i-bbb", "192.168.1.2", "10.2.0.0/24")); err != nil {
		t.Fatal(err)
	}
	got := waitFor(t, lists, "i-aaa", "i-bbb")
	if got[1].Order <= got[0].Order {
		t.Fatalf("watched Order a=%d b=%d, want a < b", got[0].Order, got[1].Order)
	}
	if err := r.Remove(ctx, "i-aaa"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, lists, "i-bbb")

	// An updated record arrives with its new content.
	upd := testHost("i-bbb", "192.168.1.2", "10.2.0.0/24")
	upd.HostConfig = "iptables: permission denied"
	if err := r.Publish(ctx, upd); err != nil {
		t.Fatal(err)
	}
	for h := waitFor(t, lists, "i-bbb"); h[0].HostConfig != upd.HostConfig; h = waitFor(t, lists, "i-bbb") {
	}

	// etcd goes away and comes back with its data: the watch carries on.
	srv.Stop()
	time.Sleep(500 * time.Millisecond)
	srv.Restart()
	// Right after the restart, before the registry's client reconnects,
	// another client changes the records and compacts the history: the
	// watch cannot resume from its revision and must list again.
	raw := rawClient(t, srv)
	var put *clientv3.PutResponse
	for _, ip := range []string{"192.168.1.3", "192.168.1.33"} {
		var err error
		if put, err = raw.Put(ctx, r.Prefix()+"hosts/i-ccc", mustJSON(t, testHost("i-ccc", ip, "10.3.0.0/24"))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := raw.Compact(ctx, put.Header.Revision); err != nil {
		t.Fatal(err)
	}
	for h := waitFor(t, lists, "i-bbb", "i-ccc"); h[1].PrivateIP.String() != "192.168.1.33"; h = waitFor(t, lists, "i-bbb", "i-ccc") {
	}

	if err := r.Publish(ctx, testHost("i-ddd", "192.168.1.4", "10.4.0.0/24")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, lists, "i-bbb", "i-ccc", "i-ddd")
	t.Logf("watch relisted after compaction: %v", logs.FilterMessage("host watch compacted; listing again").Len() > 0)
}

func TestFollowHostsReportsCompaction(t *testing.T) {
	srv := etcdtest.Start(t)
	r, _ := openOn(t, srv, nil)
	ctx := testCtx(t)
	if err := r.Publish(ctx, testHost("i-aaa", "192.168.1.1", "10.1.0.0/24")); err != nil {
		t.Fatal(err)
	}
	hosts, rev, err := r.Hosts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"i-bbb", "i-ccc"} {
		if err := r.Publish(ctx, testHost(id, "192.168.1.2", "10.2.0.0/24")); err != nil {
			t.Fatal(err)
		}
	}
	_, now, err := r.Hosts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rawClient(t, srv).Compact(ctx, now); err != nil {
		t.Fatal(err)
	}
	err = r.followHosts(ctx, hosts, rev, func([]reconciler.Host) { t.Error("fn called for a compacted watch") })
	if !errors.Is(err, rpctypes.ErrCompacted) {
		t.Fatalf("followHosts from a compacted revision = %v, want ErrCompacted", err)
	}
}

func TestWatchHostsReturnsWhenRegistryCloses(t *testing.T) {
	srv := etcdtest.Start(t)
	r, _ := openOn(t, srv, nil)
	ret := make(chan error, 1)
	called := make(chan struct{}, 10)
	go func() {
		ret <- r.WatchHosts(context.Background(), func([]reconciler.Host) { called <- struct{}{} })
	}()
	<-called
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-ret:
		if err == nil {
			t.Fatal("WatchHosts returned nil after Close, want an error")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("WatchHosts still running 5s after Close")
	}
}
