package main

import (
	"bufio"
	"bytes"
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
	testsupport.RequireRoot(t, "creates a network namespace")
	testsupport.RequireTool(t, "iptables-save")
	ns := fmt.Sprintf("vr-cmd-%d-%d", os.Getpid(), rand.IntN(1<<20))
	run(t, "ip", "netns", "add", ns)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "delete", ns).Run() })
	run(t, "ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
	inNS := func(args ...string) []string { return append([]string{"netns", "exec", ns}, args...) }

	topo := filepath.Join(t.TempDir(), "topology.yaml")
	if err := os.WriteFile(topo, []byte(fmt.Sprintf(topologyFiveHosts, "50ms")), 0o600); err != nil {
		t.Fatal(err)
	}
	simCmd := exec.Command("ip", inNS(filepath.Join(binDir, "vpcroute-sim"), "--listen", "127.0.0.1:0", "--topology", topo)...)
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
	addr := strings.TrimPrefix(sc.Text(), "listening on ")
	url := "http://" + addr
	stateDir := t.TempDir()

	vpcroute := func(args ...string) (string, error) {
		all := append(args, "--endpoint", url, "--metadata-endpoint", url+"/sim/v1/instances/i-aaa",
			"--cluster-name", "lab", "--cluster-cidr", "10.0.0.0/8", "--subnet", "10.0.0.0/24", "--state-dir", stateDir,
			"--config", emptyConfig)
		cmd := exec.Command("ip", inNS(append([]string{filepath.Join(binDir, "vpcroute")}, all...)...)...)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "ALIBABA_CLOUD_ACCESS_KEY_ID=LTAI-test", "ALIBABA_CLOUD_ACCESS_KEY_SECRET=test-secret"}
		var buf bytes.Buffer
		cmd.Stdout, cmd.Stderr = &buf, &buf
		err := cmd.Run()
		testsupport.CheckChild(t, "vpcroute "+args[0], buf.String(), err)
		return buf.String(), err
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
