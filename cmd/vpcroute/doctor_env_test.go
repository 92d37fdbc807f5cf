package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/internal/testsupport"
)

// These tests run `vpcroute doctor` as a process inside a network namespace
// the test creates (a veth uplink with a default route, a bridge holding
// the local subnet, its own iptables and sysctls), against vpcroute-sim
// running in the same namespace. Nothing touches the root namespace.

// The simulator's default AWS world: two instances and its own access key;
// no shared AWS config may lead the SDK anywhere else.
const (
	ec2A = "i-0aaaaaaaaaaaaaaaa"
	ec2B = "i-0bbbbbbbbbbbbbbbb"
)

func ec2Env() []string {
	return []string{"AWS_ACCESS_KEY_ID=AKIASIMULATOR0000001", "AWS_SECRET_ACCESS_KEY=sim-aws-secret",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_REGION=eu-west-1"}
}

// doctorEnv is one namespace with a simulator, for doctor runs.
type doctorEnv struct {
	t        *testing.T
	ns       string
	url      string // the simulator as seen inside the namespace
	admin    *http.Client
	stateDir string
	// aws: the simulator plays EC2; imds maps instances to their IMDS.
	aws  bool
	imds map[string]string
}

// doctorReport is the part of doctor's JSON the tests read.
type doctorReport struct {
	Checks []struct {
		ID, Title, Result, Cause, Fix string
	} `json:"checks"`
	Summary struct {
		Pass, Warn, Fail, Skip int
		Result                 string
	} `json:"summary"`
}

// results maps check IDs to verdicts.
func (r doctorReport) results() map[string]string {
	m := map[string]string{}
	for _, c := range r.Checks {
		m[c.ID] = c.Result
	}
	return m
}

func (r doctorReport) check(t *testing.T, id string) (result, cause, fix string) {
	t.Helper()
	for _, c := range r.Checks {
		if c.ID == id {
			return c.Result, c.Cause, c.Fix
		}
	}
	t.Fatalf("no check %s in the report", id)
	return
}

// newDoctorEnv builds the namespace: eth0 192.168.1.196/24 (a veth whose
// peer stays in the namespace) with the default route via the VPC router's
// address, br0 10.0.0.1/24 as the container bridge, ip_forward on; and the
// simulator inside, with its admin API also on a unix socket the test
// reaches from the root namespace.
func newDoctorEnv(t *testing.T) *doctorEnv {
	return newDoctorEnvFor(t, false)
}

// newDoctorEnvFor is newDoctorEnv with the simulator playing EC2 when aws
// is set (its default AWS world, an IMDSv2 listener per instance).
func newDoctorEnvFor(t *testing.T, aws bool) *doctorEnv {
	t.Helper()
	testsupport.RequireRoot(t, "creates a network namespace")
	e := &doctorEnv{t: t, ns: fmt.Sprintf("vr-doc-%d-%d", os.Getpid(), rand.IntN(1<<20)), stateDir: t.TempDir(), aws: aws, imds: map[string]string{}}
	run(t, "ip", "netns", "add", e.ns)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "delete", e.ns).Run() })
	for _, args := range [][]string{
		{"link", "set", "lo", "up"},
		{"link", "add", "eth0", "type", "veth", "peer", "name", "eth0-peer"},
		{"link", "set", "eth0-peer", "up"},
		{"addr", "add", "192.168.1.196/24", "dev", "eth0"},
		{"link", "set", "eth0", "up"},
		{"route", "add", "default", "via", "192.168.1.253", "dev", "eth0"},
		{"link", "add", "br0", "type", "bridge"},
		{"addr", "add", "10.0.0.1/24", "dev", "br0"},
		{"link", "set", "br0", "up"},
	} {
		run(t, "ip", append([]string{"-n", e.ns}, args...)...)
	}
	e.sysctl("net.ipv4.ip_forward", "1")

	topo := filepath.Join(t.TempDir(), "topology.yaml")
	if err := os.WriteFile(topo, []byte(fmt.Sprintf(topologyFiveHosts, "50ms")), 0o600); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "sim.sock")
	args := []string{"--listen", "127.0.0.1:0", "--listen", "unix:" + sock, "--topology", topo}
	if aws {
		args = []string{"--topology-default", "aws", "--listen", "127.0.0.1:0", "--listen", "unix:" + sock,
			"--metadata-listen", ec2A + "=127.0.0.1:0", "--metadata-listen", ec2B + "=127.0.0.1:0"}
	}
	sim := exec.Command("ip", append([]string{"netns", "exec", e.ns, filepath.Join(binDir, "vpcroute-sim")}, args...)...)
	sim.Stderr = testsupport.WatchChild(t, "vpcroute-sim", io.Discard)
	out, err := sim.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Process.Kill(); _ = sim.Wait() })
	sc := bufio.NewScanner(out)
	if !sc.Scan() {
		t.Fatal("simulator printed nothing")
	}
	e.url = "http://" + strings.TrimPrefix(sc.Text(), "listening on ")
	for aws && len(e.imds) < 2 && sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 3 && f[0] == "metadata" {
			e.imds[f[1]] = "http://" + f[2]
		}
	}
	if aws && len(e.imds) < 2 {
		t.Fatalf("simulator announced %d metadata listeners, want 2", len(e.imds))
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	e.admin = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}}}
	eventually(t, 5*time.Second, "simulator admin socket", func() error {
		_, err := e.adminDo(http.MethodGet, "/sim/v1/healthz", "")
		return err
	})
	return e
}

func (e *doctorEnv) sysctl(name, value string) {
	e.t.Helper()
	run(e.t, "ip", "netns", "exec", e.ns, "sysctl", "-qw", name+"="+value)
}

func (e *doctorEnv) adminDo(method, path, body string) (string, error) {
	req, err := http.NewRequest(method, "http://sim"+path, strings.NewReader(body))
	if err != nil {
		return "", err
	}
	resp, err := e.admin.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return "", fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	return string(b), nil
}

// putRoute puts an entry into vtb-lab behind vpcroute's back.
func (e *doctorEnv) putRoute(dest, instance, name, description string) {
	e.t.Helper()
	b, _ := json.Marshal(map[string]string{"table": "vtb-lab", "destination": dest, "nextHopType": "Instance",
		"nextHopId": instance, "name": name, "description": description, "status": "Available"})
	if _, err := e.adminDo(http.MethodPost, "/sim/v1/routes", string(b)); err != nil {
		e.t.Fatal(err)
	}
}

func (e *doctorEnv) deleteRoute(dest string) {
	e.t.Helper()
	if _, err := e.adminDo(http.MethodDelete, "/sim/v1/routes?table=vtb-lab&destination="+dest, ""); err != nil {
		e.t.Fatal(err)
	}
}

// vpcroute runs the CLI for instance inside the namespace.
func (e *doctorEnv) vpcroute(instance string, args ...string) result {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	md := e.url + "/sim/v1/instances/" + instance
	env := []string{"PATH=" + os.Getenv("PATH"), "ALIBABA_CLOUD_ACCESS_KEY_ID=LTAI-test", "ALIBABA_CLOUD_ACCESS_KEY_SECRET=test-secret"}
	if e.aws {
		md = e.imds[instance]
		args = append(args, "--provider", "aws")
		env = append([]string{"PATH=" + os.Getenv("PATH")}, ec2Env()...)
	}
	all := append(args, takenBy(args[0], "--endpoint", e.url, "--metadata-endpoint", md,
		"--cluster-name", "lab", "--cluster-cidr", "10.0.0.0/8", "--state-dir", e.stateDir, "--config", emptyConfig)...)
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", e.ns, filepath.Join(binDir, "vpcroute")}, all...)...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	testsupport.CheckChild(e.t, "vpcroute "+args[0], stderr.String(), err)
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatal(err)
	}
	return result{code, stdout.String(), stderr.String()}
}

// doctor runs `vpcroute doctor -o json` for the first instance (i-aaa,
// or its EC2 twin) and checks the exit status matches the summary.
func (e *doctorEnv) doctor(extra ...string) doctorReport {
	e.t.Helper()
	args := append([]string{"doctor", "-o", "json", "--subnet", "10.0.0.0/24", "--peer", "10.1.0.2"}, extra...)
	instance := "i-aaa"
	if e.aws {
		instance = ec2A
	}
	r := e.vpcroute(instance, args...)
	var rep doctorReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		e.t.Fatalf("doctor: exit %d, not JSON (%v): %s %s", r.code, err, r.stdout, r.stderr)
	}
	want := 0
	if rep.Summary.Fail > 0 {
		want = 1
	}
	if r.code != want {
		e.t.Errorf("doctor exit %d with %d failed checks, want %d: %s", r.code, rep.Summary.Fail, want, r.stderr)
	}
	return rep
}

// expectOnly asserts that exactly the listed checks do not PASS, with
// those verdicts.
func expectOnly(t *testing.T, stage string, rep doctorReport, want map[string]string) {
	t.Helper()
	for _, c := range rep.Checks {
		w, ok := want[c.ID]
		if !ok {
			w = "PASS"
		}
		if c.Result != w {
			t.Errorf("%s: %s = %s (%s; fix %s), want %s", stage, c.ID, c.Result, c.Cause, c.Fix, w)
		}
	}
	got := rep.results()
	for id := range want {
		if _, ok := got[id]; !ok {
			t.Errorf("%s: no check %s", stage, id)
		}
	}
}

// noDaemon are the daemon checks when no daemon runs.
var noDaemon = map[string]string{"daemon.status": "SKIP", "daemon.leader": "SKIP", "daemon.registered": "SKIP",
	"daemon.reconcile-age": "SKIP", "daemon.reconcile-result": "SKIP"}

// with returns noDaemon plus more, plus docker.reachable and docker.bip
// skipped (the subnet is given with --subnet: no Docker in this namespace).
func with(more map[string]string) map[string]string {
	m := map[string]string{"docker.reachable": "SKIP", "docker.bip": "SKIP"}
	for k, v := range noDaemon {
		m[k] = v
	}
	for k, v := range more {
		m[k] = v
	}
	return m
}
