package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/reconciler/registry/etcdtest"
	"github.com/vpcroute/vpcroute/reconciler/status"
)

// TestDaemonBootsWithEtcdAndCloudDown: the daemon starts while neither the
// cloud API nor etcd answers. It does not exit: /healthz is 200, /readyz
// and /status name what is missing. The cloud comes back, then etcd: the
// host is identified, registers and its route is created, with no restart.
func TestDaemonBootsWithEtcdAndCloudDown(t *testing.T) {
	etcd := etcdtest.Start(t)
	etcd.Stop()
	simAddr := freeAddr(t)
	s := &simProc{url: "http://" + simAddr} // nothing listens there yet
	start := time.Now()
	d := s.startDaemon(t, "i-aaa", "10.0.0.0/24", etcd.Endpoints())

	depState := func(doc status.Document, name string) string {
		for _, dep := range doc.Dependencies {
			if dep.Name == name {
				return dep.State
			}
		}
		return "absent"
	}
	eventually(t, 10*time.Second, "/readyz names the cloud API", func() error {
		if code, body := d.get("/readyz"); code != 503 || !strings.Contains(body, "waiting for cloud (down since") {
			return fmt.Errorf("%d %s", code, body)
		}
		return nil
	})
	time.Sleep(3 * time.Second) // several attempts
	if !d.alive() {
		t.Fatal("the daemon exited while the cloud API and etcd were down")
	}
	if code, body := d.get("/healthz"); code != 200 {
		t.Errorf("/healthz while the cloud API and etcd are down: %d %s", code, body)
	}
	doc, err := d.status()
	if err != nil {
		t.Fatal(err)
	}
	if depState(doc, "cloud") != status.DepDown || depState(doc, "etcd") != status.DepWaiting {
		t.Errorf("dependencies %+v, want cloud down and etcd waiting", doc.Dependencies)
	}
	if doc.Host.HostConfig.LastApplied.IsZero() {
		t.Errorf("the agent has not run while the control plane is down: %+v", doc.Host.HostConfig)
	}

	cloudBack := time.Now()
	s = startSimAt(t, "100ms", simAddr)
	took := eventually(t, 30*time.Second, "identity from the cloud, then /readyz names etcd", func() error {
		if code, body := d.get("/readyz"); code != 503 || !strings.Contains(body, "waiting for etcd") {
			return fmt.Errorf("%d %s", code, body)
		}
		return nil
	})
	t.Logf("cloud API back -> identified %s later (retries every 1-10 s, jittered)", took)
	if doc, err = d.status(); err != nil || doc.Host.Instance != "i-aaa" || depState(doc, "cloud") != status.DepUp {
		t.Fatalf("after the cloud came back: instance %q, dependencies %+v, err %v", doc.Host.Instance, doc.Dependencies, err)
	}

	etcd.Restart()
	took = s.wantOwned(t, 30*time.Second, "10.0.0.0/24>i-aaa:Available")
	t.Logf("etcd back -> this host registered and its route Available %s later (%s after the daemon started, cloud back after %s)",
		took, time.Since(start).Round(time.Millisecond), cloudBack.Sub(start).Round(time.Millisecond))
	eventually(t, 10*time.Second, "/readyz 200", func() error {
		if code, body := d.get("/readyz"); code != 200 {
			return fmt.Errorf("%d %s", code, body)
		}
		return nil
	})
}
