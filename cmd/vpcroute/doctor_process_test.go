package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/internal/procstop"
	"github.com/vpcroute/vpcroute/internal/testsupport"
)

// TestDoctorInNetns: a host synced with vpcroute (real iptables and
// sysctls in the namespace, routes in the simulator) passes every check
// doctor can make without Docker or a daemon; then one thing at a time is
// broken in the namespace or in the simulator and doctor names exactly it.
func TestDoctorInNetns(t *testing.T) {
	e := newDoctorEnv(t)
	start := time.Now()
	if r := e.vpcroute("i-aaa", "sync", "--subnet", "10.0.0.0/24"); r.code != 0 {
		t.Fatalf("sync i-aaa: %d %s", r.code, r.stderr)
	}
	if r := e.vpcroute("i-bbb", "sync", "--subnet", "10.1.0.0/24", "--host-config=false"); r.code != 0 {
		t.Fatalf("sync i-bbb: %d %s", r.code, r.stderr)
	}
	t0 := time.Now()
	rep := e.doctor()
	t.Logf("one doctor run: %s", time.Since(t0).Round(time.Millisecond))
	expectOnly(t, "synced", rep, with(nil))
	if res, cause, _ := rep.check(t, "sysctl.forwarding"); res != "PASS" || cause != "forwarding on eth0 (uplink), br0 (bridge of 10.0.0.0/24)" {
		t.Errorf("sysctl.forwarding: %s %q", res, cause)
	}

	// Text output: aligned lines, the summary last.
	if r := e.vpcroute("i-aaa", "doctor", "--subnet", "10.0.0.0/24", "--peer", "i-bbb"); r.code != 0 ||
		!strings.Contains(r.stdout, "PASS  routes.peer ") || !strings.HasSuffix(r.stdout, "PASS: 20 checks, 13 passed, 0 warned, 0 failed, 7 skipped\n") {
		t.Errorf("text output: exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}

	t.Run("ip_forward off", func(t *testing.T) {
		e.sysctl("net.ipv4.ip_forward", "0")
		defer e.sysctl("net.ipv4.ip_forward", "1")
		rep := e.doctor()
		expectOnly(t, "ip_forward off", rep, with(map[string]string{"sysctl.ip-forward": "FAIL", "sysctl.forwarding": "SKIP"}))
		if _, cause, _ := rep.check(t, "sysctl.ip-forward"); cause != "net.ipv4.ip_forward = 0: the kernel forwards nothing between the VPC and the containers" {
			t.Errorf("cause %q", cause)
		}
	})
	t.Run("strict rp_filter, route back by another interface", func(t *testing.T) {
		e.sysctl("net.ipv4.conf.all.rp_filter", "1")
		run(t, "ip", "-n", e.ns, "route", "add", "10.1.0.0/24", "dev", "br0")
		defer func() {
			run(t, "ip", "-n", e.ns, "route", "del", "10.1.0.0/24", "dev", "br0")
			e.sysctl("net.ipv4.conf.all.rp_filter", "0")
		}()
		rep := e.doctor()
		expectOnly(t, "rp_filter", rep, with(map[string]string{"sysctl.rp-filter": "WARN"}))
		if _, cause, _ := rep.check(t, "sysctl.rp-filter"); cause != "strict rp_filter on eth0 is 1 (the larger of all = 1 and eth0 = 0) drops packets from 10.1.0.1: the route back to it leaves by br0, not eth0" {
			t.Errorf("cause %q", cause)
		}
	})
	t.Run("REJECT of one host's traffic ahead of vpcroute's chain", func(t *testing.T) {
		rule := []string{"-s", "10.1.0.0/24", "-d", "10.0.0.0/24", "-j", "REJECT"}
		run(t, "ip", append([]string{"netns", "exec", e.ns, "iptables", "-I", "FORWARD", "1"}, rule...)...)
		defer run(t, "ip", append([]string{"netns", "exec", e.ns, "iptables", "-D", "FORWARD"}, rule...)...)
		rep := e.doctor()
		expectOnly(t, "reject", rep, with(map[string]string{"iptables.forward": "FAIL"}))
		_, cause, fix := rep.check(t, "iptables.forward")
		if cause != "FORWARD #1 (-s 10.1.0.0/24 -d 10.0.0.0/24 -j REJECT --reject-with icmp-port-unreachable) drops the part of 10.0.0.0/8 -> 10.0.0.0/24 it matches before vpcroute's accept rules" ||
			fix != "delete it: iptables -D FORWARD -s 10.1.0.0/24 -d 10.0.0.0/24 -j REJECT --reject-with icmp-port-unreachable" {
			t.Errorf("cause %q fix %q", cause, fix)
		}
	})
	t.Run("shadowing entry", func(t *testing.T) {
		e.putRoute("10.0.0.128/25", "i-h3", "old-migration", "")
		defer e.deleteRoute("10.0.0.128/25")
		rep := e.doctor()
		expectOnly(t, "shadowed", rep, with(map[string]string{"routes.local": "FAIL"}))
		if _, cause, _ := rep.check(t, "routes.local"); cause != "more specific 10.0.0.128/25 -> Instance/i-h3 in vtb-lab (entry old-migration) takes part of 10.0.0.0/24 elsewhere" {
			t.Errorf("cause %q", cause)
		}
	})
	t.Run("another host's owned entry overlaps", func(t *testing.T) {
		e.putRoute("10.0.0.0/23", "i-h4", "vpcroute-lab", "managed by vpcroute; cluster=lab; instance=i-h4")
		defer e.deleteRoute("10.0.0.0/23")
		rep := e.doctor()
		expectOnly(t, "overlap", rep, with(map[string]string{"subnets.distinct": "FAIL", "routes.local": "SKIP"}))
		if _, cause, _ := rep.check(t, "subnets.distinct"); cause != "10.0.0.0/24 overlaps 10.0.0.0/23, claimed by i-h4 (route tables): the VPC can send those addresses to one host only" {
			t.Errorf("cause %q", cause)
		}
	})
	t.Run("peer's route missing", func(t *testing.T) {
		e.deleteRoute("10.1.0.0/24")
		defer func() {
			if r := e.vpcroute("i-bbb", "sync", "--subnet", "10.1.0.0/24", "--host-config=false"); r.code != 0 {
				t.Fatalf("re-sync i-bbb: %d %s", r.code, r.stderr)
			}
		}()
		// Without the registry, a peer whose entry is gone is unknown.
		rep := e.doctor()
		expectOnly(t, "peer gone", rep, with(map[string]string{"routes.peer": "FAIL"}))
		if _, cause, _ := rep.check(t, "routes.peer"); cause != "no host of cluster lab claims 10.1.0.2: no route table entry owned by the cluster holds it" {
			t.Errorf("cause %q", cause)
		}
	})
	t.Run("quota", func(t *testing.T) {
		rep := e.doctor("--route-quota", "5")
		expectOnly(t, "quota", rep, with(map[string]string{"routes.quota": "WARN"}))
		if _, cause, _ := rep.check(t, "routes.quota"); cause != "vtb-lab holds 5 of 5 custom route entries per route table (100%): 0 more fit" {
			t.Errorf("cause %q", cause)
		}
	})
	t.Run("cloud unreachable", func(t *testing.T) {
		r := e.vpcroute("i-gone", "doctor", "-o", "json", "--subnet", "10.0.0.0/24", "--timeout", "5s")
		var rep doctorReport
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 1 {
			t.Fatalf("exit %d (%v): %s %s", r.code, err, r.stdout, r.stderr)
		}
		expectOnly(t, "cloud", rep, with(map[string]string{"cloud.api": "FAIL", "subnets.vpc-overlap": "SKIP", "subnets.distinct": "SKIP",
			"routes.local": "SKIP", "routes.peer": "SKIP", "routes.quota": "SKIP"}))
		if !strings.Contains(r.stderr, "vpcroute: doctor: 1 check(s) failed: cloud.api") {
			t.Errorf("stderr: %s", r.stderr)
		}
	})
	t.Logf("doctor in a namespace, synced and broken %d ways: %s", 8, time.Since(start).Round(time.Millisecond))

	// A daemon in self mode: the daemon checks pass too.
	t.Run("with a daemon", func(t *testing.T) {
		addr := "127.0.0.1:19712"
		cmd := exec.Command("ip", "netns", "exec", e.ns, filepath.Join(binDir, "vpcroute"), "daemon",
			"--subnet", "10.0.0.0/24", "--cluster-cidr", "10.0.0.0/8", "--cluster-name", "lab",
			"--endpoint", e.url, "--metadata-endpoint", e.url+"/sim/v1/instances/i-aaa",
			"--state-dir", e.stateDir, "--config", emptyConfig, "--status-addr", addr, "--resync-interval", "1s",
			"--cache-dir", t.TempDir())
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "ALIBABA_CLOUD_ACCESS_KEY_ID=LTAI-test", "ALIBABA_CLOUD_ACCESS_KEY_SECRET=test-secret"}
		var log lockedBuffer
		out := testsupport.WatchChild(t, "daemon i-aaa", &log)
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		defer func() {
			if err := procstop.Stop(cmd.Process, done, syscall.SIGTERM, 10*time.Second); err != nil {
				t.Logf("daemon: %v", err)
			}
			if t.Failed() {
				t.Logf("daemon log:\n%s", log.String())
			}
		}()
		var rep doctorReport
		eventually(t, 15*time.Second, "daemon checks pass", func() error {
			rep = e.doctor("--status-addr", addr, "--resync-interval", "1s")
			if res := rep.results(); res["daemon.reconcile-result"] != "PASS" || res["daemon.status"] != "PASS" {
				return fmt.Errorf("daemon checks %v", res)
			}
			return nil
		})
		expectOnly(t, "with a daemon", rep, map[string]string{"docker.reachable": "SKIP", "docker.bip": "SKIP"})
		if _, cause, _ := rep.check(t, "daemon.leader"); cause != "this host (i-aaa) leads" {
			t.Errorf("daemon.leader cause %q", cause)
		}
		// Pretend the daemons resync every 10ms: the last pass is too old.
		time.Sleep(100 * time.Millisecond)
		rep = e.doctor("--status-addr", addr, "--resync-interval", "10ms")
		if res, cause, _ := rep.check(t, "daemon.reconcile-age"); res != "FAIL" || !strings.Contains(cause, "more than 3 × the resync interval 10ms") {
			t.Errorf("daemon.reconcile-age with 10ms: %s %q", res, cause)
		}
	})
}

// TestDoctorAWS: the same checks on EC2 (the simulator's AWS world): routes
// point at ENIs, the quota is EC2's 50 routes per table, and a terminated
// peer's route is a blackhole, and an ENI whose source/destination check
// is back on is named.
func TestDoctorAWS(t *testing.T) {
	e := newDoctorEnvFor(t, true)
	if r := e.vpcroute(ec2A, "sync", "--subnet", "10.0.0.0/24"); r.code != 0 {
		t.Fatalf("sync A: %d %s", r.code, r.stderr)
	}
	if r := e.vpcroute(ec2B, "sync", "--subnet", "10.1.0.0/24", "--host-config=false"); r.code != 0 {
		t.Fatalf("sync B: %d %s", r.code, r.stderr)
	}
	rep := e.doctor()
	expectOnly(t, "aws synced", rep, with(nil))
	for id, want := range map[string]string{
		"routes.local": "10.0.0.0/24 -> NetworkInterface/eni-0aaaaaaaaaaaaaaaa in rtb-0a1b2c3d4e5f60001, owned by cluster lab, Available",
		"routes.peer":  "peer 10.1.0.2: 10.1.0.0/24 -> NetworkInterface/eni-0bbbbbbbbbbbbbbbb in rtb-0a1b2c3d4e5f60001, owned by cluster lab, Available",
	} {
		if _, cause, _ := rep.check(t, id); cause != want {
			t.Errorf("%s: %q, want %q", id, cause, want)
		}
	}
	if _, cause, _ := rep.check(t, "routes.quota"); !strings.HasSuffix(cause, " of 50 routes per route table (50 by default, up to 1000)") {
		t.Errorf("routes.quota: %q", cause)
	}
	if res, cause, _ := rep.check(t, "cloud.source-dest-check"); res != "PASS" {
		t.Errorf("cloud.source-dest-check after sync: %s %q", res, cause)
	}
	// Someone turns A's source/destination check back on.
	raw, err := e.adminDo(http.MethodGet, "/sim/v1/instances", "")
	if err != nil {
		t.Fatal(err)
	}
	var specs []map[string]any
	if err := json.Unmarshal([]byte(raw), &specs); err != nil {
		t.Fatal(err)
	}
	for _, spec := range specs {
		if spec["id"] == ec2A {
			spec["sourceDestCheck"] = true
			body, _ := json.Marshal(spec)
			if _, err := e.adminDo(http.MethodPost, "/sim/v1/instances", string(body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	rep = e.doctor()
	expectOnly(t, "source/dest check on", rep, with(map[string]string{"cloud.source-dest-check": "FAIL"}))
	if _, cause, fix := rep.check(t, "cloud.source-dest-check"); !strings.Contains(cause, "eni-0aaaaaaaaaaaaaaaa") || fix == "" {
		t.Errorf("cloud.source-dest-check: cause %q fix %q", cause, fix)
	}
	spec := map[string]any{}
	for _, sp := range specs {
		if sp["id"] == ec2A {
			spec = sp
		}
	}
	spec["sourceDestCheck"] = false
	body, _ := json.Marshal(spec)
	if _, err := e.adminDo(http.MethodPost, "/sim/v1/instances", string(body)); err != nil {
		t.Fatal(err)
	}
	// B's instance is terminated: its route stays, a blackhole.
	if _, err := e.adminDo(http.MethodDelete, "/sim/v1/instances/"+ec2B, ""); err != nil {
		t.Fatal(err)
	}
	rep = e.doctor()
	expectOnly(t, "peer terminated", rep, with(map[string]string{"routes.peer": "FAIL"}))
	if _, cause, _ := rep.check(t, "routes.peer"); cause != "10.1.0.0/24 -> NetworkInterface/eni-0bbbbbbbbbbbbbbbb in rtb-0a1b2c3d4e5f60001 is a blackhole: its target is gone, the cloud drops the traffic" {
		t.Errorf("routes.peer: %q", cause)
	}
}

// TestDoctorBadInput: bad flags are one line on stderr naming the value and
// exit 2, before anything is read.
func TestDoctorBadInput(t *testing.T) {
	s := &simProc{url: "http://127.0.0.1:9"} // never contacted
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"doctor", "--cluster-cidr", "10.0.0.0/8", "-o", "yaml"}, `output "yaml" is invalid: expected text or json`},
		{[]string{"doctor", "--cluster-cidr", "10.0.0.0/8", "--peer", "hostb"}, `peer "hostb" is invalid`},
		{[]string{"doctor", "--cluster-cidr", "10.0.0.0/8", "--peer", "10.1.0.1/24"}, `peer "10.1.0.1/24" is invalid: host bits are set; expected 10.1.0.0/24`},
		{[]string{"doctor", "--cluster-cidr", "10.0.0.0/8", "--route-quota", "-1"}, `route-quota -1 is invalid`},
		{[]string{"doctor", "--cluster-cidr", "10.0.0.0/8", "--resync-interval", "0s"}, `resync-interval 0s is invalid`},
		{[]string{"doctor", "--cluster-cidr", "10.0.0.0/8", "--status-addr", "nowhere"}, `status-addr "nowhere" is invalid`},
		{[]string{"doctor"}, "cluster-cidr is required"},
	} {
		r := s.vpcroute(t, "i-aaa", nil, tt.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tt.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 || r.stdout != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and one line with %q", tt.args, r.code, r.stdout, r.stderr, tt.want)
		}
	}
}
