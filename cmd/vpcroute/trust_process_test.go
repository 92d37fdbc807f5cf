package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/vpcroute/vpcroute/reconciler/registry/etcdtest"
)

// TestDaemonRefusesForgedRecords: anyone who can write etcd writes host
// records that lie — a NAT gateway as target, another host's instance, an
// instance that does not exist, a claim on a live host's subnet dated 2000,
// garbage. The leader (real etcd, the simulator) refuses each one whole,
// names it on /status, forgets the record of the instance that does not
// exist, and writes nothing: the two honest routes stay as they were.
func TestDaemonRefusesForgedRecords(t *testing.T) {
	s := startSim(t, "100ms")
	etcd := etcdtest.Start(t)
	ds := []*daemonProc{
		s.startDaemon(t, "i-aaa", "10.0.0.0/24", etcd.Endpoints()),
		s.startDaemon(t, "i-bbb", "10.1.0.0/24", etcd.Endpoints()),
	}
	honest := []string{"10.0.0.0/24>i-aaa:Available", "10.1.0.0/24>i-bbb:Available"}
	s.wantOwned(t, 30*time.Second, honest...)
	var leader string
	eventually(t, 10*time.Second, "a leader", func() (err error) { leader, err = leaderOf(ds); return err })
	writesBefore := s.stats(t).Writes

	c, err := clientv3.New(clientv3.Config{Endpoints: etcd.Endpoints(), DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	record := func(instance, target, subnet, since string) string {
		return fmt.Sprintf(`{"instance":%q,"target":%s,"privateIp":"192.168.1.50","subnets":[{"subnet":%q,"since":%q}],"hostConfig":"ok","version":"forged","lastSeen":"2099-01-01T00:00:00Z"}`,
			instance, target, subnet, since)
	}
	forged := map[string]string{
		"i-h3":     record("i-h3", `{"kind":"NatGateway","id":"ngw-lab"}`, "10.66.0.0/24", "2026-01-01T00:00:00Z"),
		"i-h4":     record("i-h4", `{"kind":"Instance","id":"i-aaa"}`, "10.67.0.0/24", "2026-01-01T00:00:00Z"),
		"i-ghost":  record("i-ghost", `{"kind":"Instance","id":"i-bbb"}`, "10.68.0.0/24", "2026-01-01T00:00:00Z"),
		"i-h5":     record("i-h5", `{"kind":"Instance","id":"i-h5"}`, "10.1.0.0/24", "2000-01-01T00:00:00Z"),
		"i-norole": `{"instance":"i-norole","subnets":[{"subnet":"10.70.0.0/24"`,
	}
	for id, v := range forged {
		if _, err := c.Put(ctx, "/vpcroute/lab/hosts/"+id, v); err != nil {
			t.Fatal(err)
		}
	}
	lead := byID(ds, leader)
	wantRefused := map[string]string{
		"i-h3":     `record says routes go to "NatGateway/ngw-lab", but the cloud says instance i-h3 is reached through Instance/i-h3`,
		"i-h4":     `record says routes go to "Instance/i-aaa", but the cloud says instance i-h4 is reached through Instance/i-h4`,
		"i-norole": "record is not a valid host record",
	}
	took := eventually(t, 15*time.Second, "forged records refused on the leader's /status", func() error {
		doc, err := lead.status()
		if err != nil {
			return err
		}
		if doc.Reconcile == nil {
			return fmt.Errorf("no report yet")
		}
		got := map[string]string{}
		for _, r := range doc.Reconcile.RefusedHosts {
			got[r.Instance] = r.Reason
		}
		for id, want := range wantRefused {
			if !strings.Contains(got[id], want) {
				return fmt.Errorf("%s refused for %q, want %q (all: %v)", id, got[id], want, got)
			}
		}
		if len(doc.Reconcile.ClaimConflicts) != 1 || doc.Reconcile.ClaimConflicts[0].Refused.Instance != "i-h5" ||
			doc.Reconcile.ClaimConflicts[0].Holder.Instance != "i-bbb" {
			return fmt.Errorf("claim conflicts %+v, want i-h5 refused, i-bbb holding", doc.Reconcile.ClaimConflicts)
		}
		return nil
	})
	t.Logf("forged records refused and reported %s after they were written", took)
	eventually(t, 15*time.Second, "the record of an instance that does not exist forgotten", func() error {
		resp, err := c.Get(ctx, "/vpcroute/lab/hosts/i-ghost")
		if err != nil {
			return err
		}
		if len(resp.Kvs) != 0 {
			return fmt.Errorf("still there")
		}
		return nil
	})
	// Two resyncs later (3 s each) still nothing was written.
	time.Sleep(7 * time.Second)
	got := s.owned(t)
	slices.Sort(got)
	if !slices.Equal(got, honest) {
		t.Fatalf("owned routes %v, want exactly %v", got, honest)
	}
	if w := s.stats(t).Writes - writesBefore; w != 0 {
		t.Fatalf("%d route writes after the forged records; want 0", w)
	}
	// The refused host's own status (a daemon on i-h3 would show it) and
	// the text of `vpcroute status` name the refusal.
	r := s.vpcroute(t, "i-aaa", nil, "status", "--status-addr", lead.addr)
	if r.code != 0 || !strings.Contains(r.stdout, "Refused host records: ") || !strings.Contains(r.stdout, "i-h3: record says routes go to") {
		t.Fatalf("vpcroute status: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
