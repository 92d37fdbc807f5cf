package registry

import (
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/reconciler/registry/etcdtest"
)

// Simple auth tokens may not survive an etcd restart: watches, lease
// keep-alives and requests must authenticate again on their own (see
// tokenFreeAuth for what broke without help).
func TestAuthSurvivesEtcdRestart(t *testing.T) {
	t.Parallel()
	srv := etcdtest.Start(t)
	srv.EnableAuth(t, "vpcroute", secret, "/vpcroute/test/")
	r, logs := openOn(t, srv, func(o *Options) { o.Username, o.Password = "vpcroute", secret })
	ctx := testCtx(t)
	lists, _ := watchInto(t, r)
	waitFor(t, lists)
	// The lease outlasts a restart on a loaded machine (etcd may take more
	// than the shortest lease's 1.6s to come back): what is tested is that
	// the keep-alives authenticate again, not how fast etcd restarts.
	const leaseTTL = 20 * time.Second
	l := mustLeadTTL(t, r, LeaderInfo{Instance: "i-aaa"}, leaseTTL)

	// Whether the old token survives a restart depends on what etcd
	// replays, so restart several times.
	for i, id := range []string{"i-aaa", "i-bbb", "i-ccc", "i-ddd", "i-eee"} {
		srv.Restart()
		if err := r.Publish(ctx, testHost(id, "192.168.1.1", "10.1.0.0/24")); err != nil {
			t.Fatalf("Publish after restart %d: %v", i+1, err)
		}
		waitFor(t, lists, []string{"i-aaa", "i-bbb", "i-ccc", "i-ddd", "i-eee"}[:i+1]...)
	}
	// A whole TTL after the last restart: keep-alives that no longer
	// authenticate would have let the lease clock run out by then.
	select {
	case <-l.Done():
		t.Fatalf("leadership lost across a short etcd restart: %v", l.Err())
	case <-time.After(leaseTTL):
	}
	assertLogsClean(t, logs)
}

// An idle client's simple token expires (--auth-token-ttl); the next call
// must get a new token instead of hanging.
func TestAuthTokenExpiry(t *testing.T) {
	t.Parallel()
	srv := etcdtest.StartConfig(t, etcdtest.Config{AuthTokenTTL: time.Second})
	srv.EnableAuth(t, "vpcroute", secret, "/vpcroute/test/")
	r, _ := openOn(t, srv, func(o *Options) { o.Username, o.Password = "vpcroute", secret })
	ctx := testCtx(t)
	if err := r.Publish(ctx, testHost("i-aaa", "192.168.1.1", "10.1.0.0/24")); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	time.Sleep(2500 * time.Millisecond) // the token expires meanwhile
	if err := r.Publish(ctx, testHost("i-bbb", "192.168.1.2", "10.2.0.0/24")); err != nil {
		t.Fatalf("Publish after token expiry: %v", err)
	}
	if _, ok, err := r.Get(ctx, "i-bbb"); err != nil || !ok {
		t.Fatalf("Get after token expiry: ok %v err %v", ok, err)
	}
}
