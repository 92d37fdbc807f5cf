package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/vpcroute/vpcroute/internal/testsupport"
	"github.com/vpcroute/vpcroute/reconciler/registry"
	"github.com/vpcroute/vpcroute/reconciler/registry/etcdtest"
)

// daemonJSON writes a daemon.json holding content with mode and returns
// its path.
func daemonJSON(t *testing.T, content string, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "daemon.json")
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestAllocateDerived: i-aaa (192.168.1.196 in the VPC 192.168.0.0/16)
// gets 10.1.196.0/24 from the cluster CIDR 10.0.0.0/8, written as its bip
// with every other key kept; a second run writes nothing.
func TestAllocateDerived(t *testing.T) {
	s := startSim(t, "50ms")
	orig := "{\n  \"log-driver\": \"journald\",\n  \"mtu\": 1450\n}\n"
	path := daemonJSON(t, orig, 0o640)
	args := []string{"allocate", "--cluster-cidr", "10.0.0.0/8", "--docker-config", path}
	r := s.vpcroute(t, "i-aaa", nil, args...)
	if r.code != 0 || !strings.Contains(r.stdout, "allocated 10.1.196.0/24 to i-aaa (derived): bip 10.1.196.1/24") {
		t.Fatalf("exit %d: %s %s", r.code, r.stdout, r.stderr)
	}
	want := "{\n  \"log-driver\": \"journald\",\n  \"mtu\": 1450,\n  \"bip\": \"10.1.196.1/24\"\n}\n"
	if got := testsupport.ReadFile(t, path); got != want {
		t.Errorf("daemon.json = %q, want %q", got, want)
	}
	if got := testsupport.ReadFile(t, path+".vpcroute-backup"); got != orig {
		t.Errorf("backup = %q, want the previous file", got)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640 kept", st.Mode())
	}
	st1, _ := os.Stat(path)
	r = s.vpcroute(t, "i-aaa", nil, args...)
	if r.code != 0 || !strings.Contains(r.stdout, "kept 10.1.196.0/24") || !strings.Contains(r.stdout, "unchanged") {
		t.Fatalf("second run: exit %d: %s %s", r.code, r.stdout, r.stderr)
	}
	st2, _ := os.Stat(path)
	if got := testsupport.ReadFile(t, path); got != want || !st2.ModTime().Equal(st1.ModTime()) {
		t.Errorf("second run rewrote daemon.json: %q", got)
	}
	if got := testsupport.ReadFile(t, path+".vpcroute-backup"); got != orig {
		t.Errorf("second run rewrote the backup: %q", got)
	}
	if w := s.stats(t).Writes; w != 0 {
		t.Errorf("allocate made %d write calls to the cloud", w)
	}
}

// TestAllocateRefusals: an existing bip that overlaps something else, a
// derived subnet another host's route holds, a cluster CIDR too small and
// a daemon.json that is not JSON each stop allocate with one line and no
// change; --force replaces an overlapping bip.
func TestAllocateRefusals(t *testing.T) {
	s := startSim(t, "50ms")
	tests := []struct {
		name, content, cluster string
		code                   int
		want                   []string
	}{
		{"bip under another route", `{"bip": "10.9.0.1/24"}`, "10.0.0.0/8", 1,
			[]string{"bip 10.9.0.1/24 (subnet 10.9.0.0/24) overlaps 10.9.0.0/24, routed to VpnGateway/vpn-office in vtb-lab", "--force"}},
		{"bip in the VPC", `{"bip": "192.168.5.1/24"}`, "192.0.0.0/8", 1,
			[]string{"bip 192.168.5.1/24 (subnet 192.168.5.0/24) overlaps the VPC CIDR 192.168.0.0/16"}},
		{"bip in the VPC, outside the cluster", `{"bip": "192.168.1.1/24"}`, "10.0.0.0/8", 1,
			[]string{"bip 192.168.1.1/24 (subnet 192.168.1.0/24) overlaps the VPC CIDR 192.168.0.0/16"}},
		{"bip outside the cluster", `{"bip": "172.17.0.1/16"}`, "10.0.0.0/8", 1,
			[]string{"(subnet 172.17.0.0/16) outside the cluster CIDR 10.0.0.0/8"}},
		{"cluster CIDR containing the VPC is too small", `{}`, "192.0.0.0/8", 2,
			[]string{"cluster-cidr 192.0.0.0/8 is too small", "65280 /24 subnets", "--host-subnet-size /25"}},
		{"not JSON", "{\n  // comment\n}", "10.0.0.0/8", 2, []string{"daemon.json: invalid JSON at byte"}},
		{"leased without etcd", `{}`, "10.0.0.0/8", 2, []string{`allocator "leased" needs --etcd-endpoints`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := daemonJSON(t, tt.content, 0o644)
			args := []string{"allocate", "--cluster-cidr", tt.cluster, "--docker-config", path}
			if strings.HasPrefix(tt.name, "leased") {
				args = append(args, "--allocator", "leased")
			}
			r := s.vpcroute(t, "i-aaa", nil, args...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d: %s", r.code, tt.code, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q: %s", w, r.stderr)
				}
			}
			if n := strings.Count(strings.TrimSpace(r.stderr), "\n"); n != 0 {
				t.Errorf("stderr is %d lines: %s", n+1, r.stderr)
			}
			if got := testsupport.ReadFile(t, path); got != tt.content {
				t.Errorf("daemon.json changed: %q", got)
			}
			if _, err := os.Stat(path + ".vpcroute-backup"); err == nil {
				t.Error("a backup was written")
			}
		})
	}

	// --force replaces the overlapping bip with this host's own subnet.
	path := daemonJSON(t, `{"bip": "10.9.0.1/24"}`, 0o644)
	r := s.vpcroute(t, "i-aaa", nil, "allocate", "--cluster-cidr", "10.0.0.0/8", "--docker-config", path, "--force")
	if r.code != 0 || testsupport.ReadFile(t, path) != `{"bip": "10.1.196.1/24"}` {
		t.Errorf("--force: exit %d, %q: %s", r.code, testsupport.ReadFile(t, path), r.stderr)
	}

	// Another host routes what i-aaa would derive: refused, named.
	if r := s.vpcroute(t, "i-bbb", nil, append([]string{"sync"}, routesOnly("10.1.196.0/24")...)...); r.code != 0 {
		t.Fatalf("sync i-bbb: %d %s", r.code, r.stderr)
	}
	path = daemonJSON(t, "{}", 0o644)
	r = s.vpcroute(t, "i-aaa", nil, "allocate", "--cluster-cidr", "10.0.0.0/8", "--docker-config", path)
	if r.code != 1 || !strings.Contains(r.stderr, "derived subnet 10.1.196.0/24 for 192.168.1.196 overlaps 10.1.196.0/24, routed to Instance/i-bbb") ||
		testsupport.ReadFile(t, path) != "{}" {
		t.Errorf("derived subnet held by another host: exit %d: %s", r.code, r.stderr)
	}
}

// TestAllocateLeased: with etcd, hosts lease distinct subnets, asking
// again keeps them, an existing bip is leased as it is, and `sync
// --remove` releases the lease.
func TestAllocateLeased(t *testing.T) {
	s := startSim(t, "50ms")
	etcd := etcdtest.Start(t)
	eps := strings.Join(etcd.Endpoints(), ",")
	alloc := func(instance, path string) result {
		return s.vpcroute(t, instance, nil, "allocate", "--cluster-cidr", "10.0.0.0/8", "--docker-config", path, "--etcd-endpoints", eps)
	}
	paths := map[string]string{}
	bips := map[string]string{}
	for _, id := range []string{"i-aaa", "i-bbb", "i-h3"} {
		paths[id] = daemonJSON(t, "", 0o644)
		content := ""
		if id == "i-h3" {
			content = `{"bip": "10.77.0.1/24"}` // an existing bip, free: leased as it is
			paths[id] = daemonJSON(t, content, 0o644)
		}
		r := alloc(id, paths[id])
		if r.code != 0 || !strings.Contains(r.stdout, "(leased)") {
			t.Fatalf("%s: exit %d: %s %s", id, r.code, r.stdout, r.stderr)
		}
		bips[id] = testsupport.ReadFile(t, paths[id])
	}
	if bips["i-aaa"] == bips["i-bbb"] || bips["i-h3"] != `{"bip": "10.77.0.1/24"}` {
		t.Fatalf("bips %v", bips)
	}
	leases := func() map[string]string {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		reg, err := registry.Open(ctx, registry.Options{Endpoints: etcd.Endpoints(), Cluster: "lab", Logger: zap.NewNop()})
		if err != nil {
			t.Fatal(err)
		}
		defer reg.Close()
		ls, err := reg.SubnetLeases(ctx)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, l := range ls {
			out[l.Instance] = l.Subnet.String()
		}
		return out
	}
	before := leases()
	if len(before) != 3 || before["i-h3"] != "10.77.0.0/24" || !strings.Contains(bips["i-aaa"], strings.TrimSuffix(before["i-aaa"], "0/24")+"1/24") {
		t.Fatalf("leases %v, bips %v", before, bips)
	}
	// Sticky: a second run, even with daemon.json lost, gets the same.
	if err := os.Remove(paths["i-aaa"]); err != nil {
		t.Fatal(err)
	}
	if r := alloc("i-aaa", paths["i-aaa"]); r.code != 0 || testsupport.ReadFile(t, paths["i-aaa"]) != bips["i-aaa"] {
		t.Fatalf("i-aaa again: exit %d, %q, want %q: %s", r.code, testsupport.ReadFile(t, paths["i-aaa"]), bips["i-aaa"], r.stderr)
	}
	// Another host's bip that overlaps a lease is refused.
	clash := daemonJSON(t, `{"bip": "10.77.0.129/25"}`, 0o644)
	if r := alloc("i-h4", clash); r.code != 1 || !strings.Contains(r.stderr, "overlaps 10.77.0.0/24, leased to another host") {
		t.Errorf("i-h4 with a leased bip: exit %d: %s", r.code, r.stderr)
	}
	// Decommissioning releases the lease.
	r := s.vpcroute(t, "i-h3", nil, "sync", "--remove", "--host-config=false", "--cluster-cidr", "10.0.0.0/8", "--etcd-endpoints", eps)
	if r.code != 0 {
		t.Fatalf("sync --remove: %d %s", r.code, r.stderr)
	}
	after := leases()
	if _, ok := after["i-h3"]; ok || len(after) != 2 {
		t.Errorf("leases after i-h3's sync --remove: %v", after)
	}
	if r := alloc("i-h4", clash); r.code != 0 || !bytes.Contains([]byte(testsupport.ReadFile(t, clash)), []byte("10.77.0.129/25")) {
		t.Errorf("i-h4 once the subnet is released: exit %d: %s", r.code, r.stderr)
	}
}

// TestAllocateKeepsBIPWhenCloudIsDown: with the cloud API unreachable an
// existing bip is kept, unchecked, so Docker starts; without one allocate
// fails and writes nothing.
func TestAllocateKeepsBIPWhenCloudIsDown(t *testing.T) {
	s := startSim(t, "50ms")
	s.kill()
	for _, tt := range []struct {
		content string
		code    int
		want    string
	}{
		{`{"bip": "10.3.0.1/24"}`, 0, "kept bip 10.3.0.1/24 of "},
		{`{}`, 1, ""},
	} {
		path := daemonJSON(t, tt.content, 0o644)
		r := s.vpcroute(t, "i-aaa", nil, "allocate", "--cluster-cidr", "10.0.0.0/8", "--docker-config", path,
			"--timeout", "20s", "--cloud-retry-timeout", "1s")
		if r.code != tt.code || !strings.Contains(r.stdout, tt.want) || testsupport.ReadFile(t, path) != tt.content {
			t.Errorf("%s: exit %d, stdout %q, file %q: %s", tt.content, r.code, r.stdout, testsupport.ReadFile(t, path), r.stderr)
		}
	}
}
