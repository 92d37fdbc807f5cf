package registry

import (
	"context"
	"encoding/json"
	"net/netip"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/reconciler"
	"github.com/vpcroute/vpcroute/reconciler/registry/etcdtest"
)

// testTimeout bounds every test's own waits.
const testTimeout = 20 * time.Second

// testCtx is cancelled when the test ends or after testTimeout.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// openOn opens a registry on srv for cluster "test" (mod may change the
// options), closed when the test ends. The logs are captured, not printed,
// so background goroutines may log after the test.
func openOn(t *testing.T, srv *etcdtest.Server, mod func(*Options)) (*Registry, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(zapcore.DebugLevel)
	opts := Options{
		Endpoints:      srv.Endpoints(),
		DialTimeout:    2 * time.Second,
		RequestTimeout: 2 * time.Second,
		Cluster:        "test",
		Logger:         zap.New(core),
		// etcdtest serves plain http on loopback.
		AllowInsecureCredentials: true,
	}
	if mod != nil {
		mod(&opts)
	}
	r, err := Open(testCtx(t), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return r, logs
}

// rawClient is a plain etcd client on srv, for writing what vpcroute
// would not (corrupt records) and for compaction.
func rawClient(t *testing.T, srv *etcdtest.Server) *clientv3.Client {
	t.Helper()
	c, err := clientv3.New(clientv3.Config{Endpoints: srv.Endpoints(), DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatalf("raw client: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// testHost builds a host record claiming subnet.
func testHost(instance, ip, subnet string) reconciler.Host {
	return reconciler.Host{
		Instance:   instance,
		Target:     cloud.Target{Kind: cloud.TargetInstance, ID: instance},
		PrivateIP:  netip.MustParseAddr(ip),
		Subnets:    []reconciler.Claim{{Subnet: netip.MustParsePrefix(subnet), Since: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}},
		HostConfig: "ok",
		Version:    "test",
		LastSeen:   time.Date(2025, 1, 2, 3, 4, 6, 0, time.UTC),
	}
}

// instances lists the instance IDs of hosts, in order.
func instances(hosts []reconciler.Host) []string {
	out := make([]string, 0, len(hosts))
	for _, h := range hosts {
		out = append(out, h.Instance)
	}
	return out
}

// mustJSON encodes v.
func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
