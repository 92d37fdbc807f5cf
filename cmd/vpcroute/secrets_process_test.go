package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/vpcroute/vpcroute/cloud/sim"
	"github.com/vpcroute/vpcroute/reconciler"
	"github.com/vpcroute/vpcroute/reconciler/registry/etcdtest"
)

// roleCredentials is what the simulator's metadata hands an instance with
// a RAM role: the STS credentials the daemon signs with. The simulator
// hands out the same ones until half their lifetime (hours) has passed.
type roleCredentials struct {
	AccessKeyID     string `json:"AccessKeyId"`
	AccessKeySecret string `json:"AccessKeySecret"`
	SecurityToken   string `json:"SecurityToken"`
}

func (s *simProc) roleCredentials(t *testing.T, instance string) roleCredentials {
	t.Helper()
	get := func(path string) string {
		resp, err := http.Get(s.url + "/sim/v1/instances/" + instance + "/latest/meta-data/ram/security-credentials/" + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("metadata %s: HTTP %d %v: %s", path, resp.StatusCode, err, b)
		}
		return strings.TrimSpace(string(b))
	}
	var rc roleCredentials
	if err := json.Unmarshal([]byte(get(get(""))), &rc); err != nil || rc.SecurityToken == "" || rc.AccessKeySecret == "" {
		t.Fatalf("role credentials: %v %+v", err, rc)
	}
	return rc
}

// TestCredentialsNeverLeaveTheProcess runs a daemon (debug logging, in a
// cluster on etcd) and a sync that sign with the instance's RAM role
// credentials, then cuts every route listing without an answer: the
// Alibaba SDK's error for that is the signed request URL, with the access
// key, the security token and the signature in its query. The failure must
// show everywhere an operator looks (the daemon's output, /status, the
// report in etcd, sync's error) and the credentials nowhere: not in
// stdout, stderr, /status, /healthz, /readyz, /metrics, or any key or value
// in etcd.
func TestCredentialsNeverLeaveTheProcess(t *testing.T) {
	ts := sim.NewTestServer(t, sim.DefaultTopology(), sim.WithPendingDelay(50*time.Millisecond))
	s := &simProc{url: ts.URL}
	etcd := etcdtest.Start(t)
	kv := etcdClient(t, etcd.Endpoints())
	creds := s.roleCredentials(t, "i-aaa")
	secrets := map[string]string{
		"AccessKeyId": creds.AccessKeyID, "AccessKeySecret": creds.AccessKeySecret,
		"SecurityToken": creds.SecurityToken, "escaped SecurityToken": url.QueryEscape(creds.SecurityToken),
	}
	if err := ts.AddFault(sim.FaultRule{Action: "DescribeRouteEntryList", Close: true}); err != nil {
		t.Fatal(err)
	}
	roleOnly := []string{"ALIBABA_CLOUD_ACCESS_KEY_ID=", "ALIBABA_CLOUD_ACCESS_KEY_SECRET="}

	d := s.startDaemonEnv(t, "i-aaa", "10.0.0.0/24", etcd.Endpoints(), roleOnly, "--cloud-retry-timeout", "2s")
	eventually(t, time.Minute, "a failed pass in /status and in etcd", func() error {
		doc, err := d.status()
		if err != nil {
			return err
		}
		if doc.Reconcile == nil || doc.Reconcile.Result != reconciler.ResultError {
			return fmt.Errorf("last pass %+v", doc.Reconcile)
		}
		if kvs := etcdContents(t, kv); !strings.Contains(kvs, `"result":"error"`) {
			return fmt.Errorf("no failed report in etcd: %s", kvs)
		}
		return nil
	})

	sources := map[string]string{}
	for _, path := range []string{"/status", "/metrics", "/healthz", "/readyz"} {
		_, body := d.get(path)
		sources[path] = body
	}
	sources["etcd"] = etcdContents(t, kv)
	sync := s.vpcroute(t, "i-aaa", roleOnly, append([]string{"sync", "--log-level", "debug", "--cloud-retry-timeout", "1s"},
		routesOnly("10.0.0.0/24")...)...)
	if sync.code != 1 {
		t.Errorf("sync: exit %d, want 1: %s", sync.code, sync.stderr)
	}
	sources["sync stdout"], sources["sync stderr"] = sync.stdout, sync.stderr
	d.term(t)
	sources["daemon output"] = d.out.String()

	// The failure itself is there, endpoint and all, minus the query.
	failure := "DescribeRouteEntryList: Post \\\"" + ts.URL + "/?[redacted]\\\": EOF"
	for _, where := range []string{"/status", "etcd"} {
		if !strings.Contains(sources[where], failure) {
			t.Errorf("%s does not show the failure %s:\n%s", where, failure, sources[where])
		}
	}
	for _, where := range []string{"daemon output", "sync stderr"} {
		if !strings.Contains(sources[where], "retrying cloud call") || !strings.Contains(sources[where], ts.URL+"/?[redacted]") {
			t.Errorf("%s does not show the retried failure:\n%s", where, sources[where])
		}
	}
	if !strings.HasPrefix(sync.stderr, "vpcroute: ") && !strings.Contains(sync.stderr, "\nvpcroute: ") {
		t.Errorf("sync printed no error line:\n%s", sync.stderr)
	}
	for where, text := range sources {
		for name, secret := range secrets {
			if strings.Contains(text, secret) {
				t.Errorf("the %s leaked into %s", name, where)
			}
		}
	}
}

// etcdClient returns a plain etcd client, closed when the test ends.
func etcdClient(t *testing.T, endpoints []string) *clientv3.Client {
	t.Helper()
	c, err := clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// etcdContents returns every key and value in etcd, one pair a line.
func etcdContents(t *testing.T, c *clientv3.Client) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := c.Get(ctx, "\x00", clientv3.WithFromKey())
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, kv := range resp.Kvs {
		fmt.Fprintf(&b, "%s = %s\n", kv.Key, kv.Value)
	}
	return b.String()
}
