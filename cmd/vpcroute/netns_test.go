package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/internal/testsupport"
)

// TestSyncConfiguresHostInNetns runs the simulator and `vpcroute sync` with
// host configuration inside a network namespace the test creates, so the
// real iptables and sysctl writes land there and never in the root
// namespace.
func TestSyncConfiguresHostInNetns(t *testing.T) {
	n := startNetnsSim(t)
	inNS := n.inNS
	vpcroute := func(args ...string) (string, error) {
		stdout, stderr, err := n.vpcroute(t, append(args, takenBy(args[0], "--cluster-cidr", "10.0.0.0/8", "--subnet", "10.0.0.0/24")...)...)
		return stdout + stderr, err
	}
	save := func() string { return run(t, "ip", inNS("iptables-save")...) }
	// Rules of someone else's, which must survive sync and cleanup as they are.
	run(t, "ip", inNS("iptables", "-A", "FORWARD", "-s", "203.0.113.0/24", "-j", "ACCEPT")...)
	run(t, "ip", inNS("iptables", "-t", "nat", "-A", "POSTROUTING", "-s", "198.51.100.0/24", "-j", "MASQUERADE")...)
	pristine := save()

	start := time.Now()
	if out, err := vpcroute("sync"); err != nil {
		t.Fatalf("sync: %v\n%s", err, out)
	}
	t.Logf("sync with host config: %s", time.Since(start))
	first := save()
	for _, want := range []string{
		":VPCROUTE-FORWARD", ":VPCROUTE-POSTROUTING",
		"-A DOCKER-USER", "-j VPCROUTE-FORWARD",
		"-s 10.0.0.0/8 -d 10.0.0.0/24", "-s 192.168.0.0/16 -d 10.0.0.0/24",
		"-s 10.0.0.0/24 -d 10.0.0.0/8",
	} {
		if !strings.Contains(first, want) {
			t.Errorf("iptables-save after sync lacks %q:\n%s", want, first)
		}
	}
	if fwd := strings.TrimSpace(run(t, "ip", inNS("cat", "/proc/sys/net/ipv4/ip_forward")...)); fwd != "1" {
		t.Errorf("ip_forward in the namespace = %s", fwd)
	}
	if out, err := vpcroute("sync"); err != nil {
		t.Fatalf("second sync: %v\n%s", err, out)
	}
	if second := save(); stripComments(second) != stripComments(first) {
		t.Errorf("second sync changed iptables:\nfirst:\n%s\nsecond:\n%s", first, second)
	}
	if out, err := vpcroute("cleanup"); err != nil {
		t.Fatalf("cleanup: %v\n%s", err, out)
	}
	if after := save(); stripComments(after) != stripComments(pristine) {
		t.Errorf("cleanup did not restore iptables:\nbefore:\n%s\nafter:\n%s", pristine, after)
	}
}

// TestUnsafeClusterCIDRLeavesHostAlone: with host configuration on, an
// unsafe cluster CIDR stops sync and daemon with exit 2 before any iptables
// rule or sysctl is written (a /1 would have exempted container traffic to
// half the Internet from MASQUERADE).
func TestUnsafeClusterCIDRLeavesHostAlone(t *testing.T) {
	n := startNetnsSim(t)
	save := func() string { return stripComments(run(t, "ip", n.inNS("iptables-save")...)) }
	forward := func() string {
		return strings.TrimSpace(run(t, "ip", n.inNS("cat", "/proc/sys/net/ipv4/ip_forward")...))
	}
	pristine, fwd := save(), forward()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"sync", "--cluster-cidr", "0.0.0.0/1", "--subnet", "10.0.0.0/24"},
			`cluster-cidr "0.0.0.0/1" is too broad: expected /8 or longer, e.g. 10.0.0.0/8, 172.16.0.0/12`},
		{[]string{"daemon", "--status-addr", "127.0.0.1:0", "--cluster-cidr", "0.0.0.0/1", "--subnet", "10.0.0.0/24"},
			`cluster-cidr "0.0.0.0/1" is too broad: expected /8 or longer, e.g. 10.0.0.0/8, 172.16.0.0/12`},
		{[]string{"daemon", "--status-addr", "127.0.0.1:0", "--cluster-cidr", "192.168.128.0/17", "--subnet", "192.168.200.0/24"},
			`cluster-cidr "192.168.128.0/17" lies inside the VPC CIDR 192.168.0.0/16: expected a range outside the VPC, e.g. 10.0.0.0/8`},
	} {
		t.Run(strings.Join(tt.args[:1], " ")+" "+tt.args[len(tt.args)-3], func(t *testing.T) {
			_, stderr, err := n.vpcroute(t, tt.args...)
			var ee *exec.ExitError
			// A daemon logs its start before the cloud tells it the VPC:
			// the error is then its last line.
			if !errors.As(err, &ee) || ee.ExitCode() != 2 || lastLine(stderr) != "vpcroute: "+tt.want ||
				(tt.args[0] != "daemon" && stderr != "vpcroute: "+tt.want+"\n") {
				t.Errorf("%v, stderr %q\nwant exit 2 and %q", err, stderr, tt.want)
			}
			if got := save(); got != pristine {
				t.Errorf("iptables changed:\nbefore:\n%s\nafter:\n%s", pristine, got)
			}
			if got := forward(); got != fwd {
				t.Errorf("ip_forward changed from %s to %s", fwd, got)
			}
		})
	}
}

// netnsSim is a network namespace of the test's own with vpcroute-sim
// listening on its loopback.
type netnsSim struct {
	ns, url, stateDir string
}

// startNetnsSim creates a namespace with a unique name (deleted when the
// test ends) and starts the simulator inside it.
func startNetnsSim(t *testing.T) *netnsSim {
	t.Helper()
	testsupport.RequireRoot(t, "creates a network namespace")
	testsupport.RequireTool(t, "iptables-save")
	n := &netnsSim{ns: fmt.Sprintf("vr-cmd-%d-%d", os.Getpid(), rand.IntN(1<<20)), stateDir: t.TempDir()}
	run(t, "ip", "netns", "add", n.ns)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "delete", n.ns).Run() })
	run(t, "ip", n.inNS("ip", "link", "set", "lo", "up")...)

	topo := filepath.Join(t.TempDir(), "topology.yaml")
	if err := os.WriteFile(topo, []byte(fmt.Sprintf(topologyFiveHosts, "50ms")), 0o600); err != nil {
		t.Fatal(err)
	}
	simCmd := exec.Command("ip", n.inNS(filepath.Join(binDir, "vpcroute-sim"), "--listen", "127.0.0.1:0", "--topology", topo)...)
	simCmd.Stderr = testsupport.WatchChild(t, "vpcroute-sim", io.Discard)
	out, err := simCmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := simCmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = simCmd.Process.Kill(); _ = simCmd.Wait() })
	sc := bufio.NewScanner(out)
	if !sc.Scan() {
		t.Fatal("simulator printed nothing")
	}
	n.url = "http://" + strings.TrimPrefix(sc.Text(), "listening on ")
	return n
}

// inNS prefixes args to run inside the namespace with ip(8).
func (n *netnsSim) inNS(args ...string) []string {
	return append([]string{"netns", "exec", n.ns}, args...)
}

// vpcroute runs the CLI inside the namespace as instance i-aaa, host
// configuration included; a run that does not end within a minute is
// killed (a daemon that should have refused to start).
func (n *netnsSim) vpcroute(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	all := append(args, takenBy(args[0], "--endpoint", n.url, "--metadata-endpoint", n.url+"/sim/v1/instances/i-aaa",
		"--cluster-name", "lab", "--state-dir", n.stateDir, "--config", emptyConfig)...)
	cmd := exec.CommandContext(ctx, "ip", n.inNS(append([]string{filepath.Join(binDir, "vpcroute")}, all...)...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "ALIBABA_CLOUD_ACCESS_KEY_ID=LTAI-test", "ALIBABA_CLOUD_ACCESS_KEY_SECRET=test-secret"}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	testsupport.CheckChild(t, "vpcroute "+args[0], errOut.String(), err)
	return out.String(), errOut.String(), err
}

// stripComments drops iptables-save's timestamp comment lines.
func stripComments(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// lastLine returns s's last non-empty line.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}
