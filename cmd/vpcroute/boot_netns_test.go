package main

import (
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/internal/daemon"
	"github.com/vpcroute/vpcroute/internal/procstop"
	"github.com/vpcroute/vpcroute/internal/testsupport"
	"github.com/vpcroute/vpcroute/reconciler/status"
)

// TestDaemonConfiguresHostBeforeTheControlPlane: a reboot with the cloud
// API and etcd unreachable. In a namespace of the test's own, with real
// iptables and sysctls, the daemon configures the host at once from what
// it knows — the subnets and the VPC CIDRs saved by an earlier run — and
// keeps running; with nothing saved and no --vpc-cidr it waits and says so,
// changing nothing it cannot get right.
func TestDaemonConfiguresHostBeforeTheControlPlane(t *testing.T) {
	n := startNetnsSim(t) // a namespace; its simulator is not the daemon's cloud here
	save := func() string { return run(t, "ip", n.inNS("iptables-save")...) }
	forward := func() string {
		return strings.TrimSpace(run(t, "ip", n.inNS("cat", "/proc/sys/net/ipv4/ip_forward")...))
	}
	run(t, "ip", n.inNS("sysctl", "-qw", "net.ipv4.ip_forward=0")...)
	pristine := stripComments(save())

	startDaemon := func(cacheDir, statusAddr string) (stop func()) {
		args := []string{filepath.Join(binDir, "vpcroute"), "daemon", "--subnet", "10.0.0.0/24", "--cluster-cidr", "10.0.0.0/8",
			"--cluster-name", "lab", "--endpoint", "http://127.0.0.1:1", "--metadata-endpoint", "http://127.0.0.1:1/latest",
			"--etcd-endpoints", "http://127.0.0.1:2", "--cache-dir", cacheDir, "--state-dir", n.stateDir,
			"--status-addr", statusAddr, "--config", emptyConfig}
		cmd := exec.Command("ip", n.inNS(args...)...)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "ALIBABA_CLOUD_ACCESS_KEY_ID=LTAI-test", "ALIBABA_CLOUD_ACCESS_KEY_SECRET=test-secret"}
		var out lockedBuffer
		cmd.Stdout, cmd.Stderr = &out, testsupport.WatchChild(t, "vpcroute daemon", &out)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		stopped := false
		stop = func() {
			if stopped {
				return
			}
			stopped = true
			if err := procstop.Stop(cmd.Process, done, syscall.SIGTERM, 10*time.Second); err != nil {
				t.Logf("daemon: %v", err)
			}
			if t.Failed() {
				t.Logf("daemon output:\n%s", out.String())
			}
		}
		t.Cleanup(stop)
		return stop
	}
	doc := func(addr string) status.Document {
		t.Helper()
		stdout, stderr, err := n.vpcroute(t, "status", "--status-addr", addr, "-o", "json")
		if err != nil {
			t.Fatalf("vpcroute status: %v: %s", err, stderr)
		}
		var d status.Document
		if err := json.Unmarshal([]byte(stdout), &d); err != nil {
			t.Fatalf("vpcroute status -o json: %v: %s", err, stdout)
		}
		return d
	}

	// Nothing saved, no --vpc-cidr: the host is left alone, and the
	// daemon says what it waits for.
	stop := startDaemon(t.TempDir(), "127.0.0.1:19714")
	var d status.Document
	deadline := time.Now().Add(20 * time.Second)
	for d = (status.Document{}); d.Host.HostConfig.State != status.HostConfigWaiting; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("host config state %q, want %q: %+v", d.Host.HostConfig.State, status.HostConfigWaiting, d.Host.HostConfig)
		}
		if _, _, err := n.vpcroute(t, "status", "--status-addr", "127.0.0.1:19714", "-o", "json"); err == nil {
			d = doc("127.0.0.1:19714")
		}
	}
	if !strings.Contains(d.Host.HostConfig.Error, "--vpc-cidr") {
		t.Errorf("waiting host config says %q; want it to name --vpc-cidr", d.Host.HostConfig.Error)
	}
	if got := stripComments(save()); got != pristine || forward() != "0" {
		t.Errorf("with the VPC unknown the host was changed:\n%s\nip_forward %s", got, forward())
	}
	stop()

	// The VPC CIDRs saved by an earlier run: full host config at once.
	cache := t.TempDir()
	if err := daemon.SaveNetwork(cache, daemon.SavedNetwork{VPCID: "vpc-lab", CIDRs: []netip.Prefix{netip.MustParsePrefix("192.168.0.0/16")}, SavedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	startDaemon(cache, "127.0.0.1:19715")
	wantRules := []string{
		`-A VPCROUTE-FORWARD -s 192.168.0.0/16 -d 10.0.0.0/24 -m comment --comment "vpcroute:lab" -j ACCEPT`,
		`-A VPCROUTE-POSTROUTING -s 10.0.0.0/24 -d 10.0.0.0/8 -m comment --comment "vpcroute:lab" -j ACCEPT`,
		`-A POSTROUTING -m comment --comment "vpcroute:lab" -j VPCROUTE-POSTROUTING`,
	}
	var rules string
	for {
		rules = save()
		ok := forward() == "1"
		for _, r := range wantRules {
			ok = ok && strings.Contains(rules, r)
		}
		if ok {
			break
		}
		if time.Since(started) > 20*time.Second {
			t.Fatalf("host config not applied from the saved network within 20s; ip_forward %s, rules:\n%s", forward(), rules)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("cloud API and etcd unreachable: data path configured %s after the daemon started", time.Since(started).Round(time.Millisecond))
	time.Sleep(2 * time.Second) // a few retries of each
	d = doc("127.0.0.1:19715")
	states := map[string]string{}
	for _, dep := range d.Dependencies {
		states[dep.Name] = dep.State
	}
	if d.Host.HostConfig.State != status.HostConfigOK || states["cloud"] != status.DepDown || states["etcd"] != status.DepWaiting {
		t.Errorf("host config %q, dependencies %v; want ok, cloud down, etcd waiting", d.Host.HostConfig.State, states)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "ip", n.inNS(busybox(t), "wget", "-q", "-O", "-", "http://127.0.0.1:19715/healthz")...).CombinedOutput(); err != nil {
		t.Errorf("/healthz with the control plane down: %v %s", err, out)
	}
}

// busybox is the machine's busybox (Debian busybox-static), for wget in a
// namespace.
func busybox(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/bin/busybox", "/usr/bin/busybox"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	testsupport.RequireTool(t, "busybox")
	return "busybox"
}
