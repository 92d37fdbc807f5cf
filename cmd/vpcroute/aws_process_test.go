package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/cloud/sim"
	"github.com/vpcroute/vpcroute/internal/testsupport"
	"github.com/vpcroute/vpcroute/reconciler/registry/etcdtest"
)

// The same commands on EC2: vpcroute-sim with its default AWS world, one
// IMDSv2 listener per instance on loopback (the SDK's IMDS client drops a
// base path, so the per-instance prefix the Alibaba tests use cannot work),
// the simulator's own access key, and no shared AWS config.

const (
	awsA = "i-0aaaaaaaaaaaaaaaa"
	awsB = "i-0bbbbbbbbbbbbbbbb"
)

type awsSim struct {
	*simProc
	imds map[string]string // instance -> metadata URL
}

func startAWSSim(t *testing.T) *awsSim {
	t.Helper()
	testsupport.SkipIfShort(t, "runs the vpcroute-sim process")
	cmd := exec.Command(filepath.Join(binDir, "vpcroute-sim"), "--topology-default", "aws", "--listen", "127.0.0.1:0",
		"--metadata-listen", awsA+"=127.0.0.1:0", "--metadata-listen", awsB+"=127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &lockedBuffer{}
	cmd.Stderr = testsupport.WatchChild(t, "vpcroute-sim", stderr)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	s := &awsSim{imds: map[string]string{}}
	lines := bufio.NewScanner(stdout)
	for len(s.imds) < 2 && lines.Scan() {
		line := lines.Text()
		if addr, ok := strings.CutPrefix(line, "listening on "); ok {
			s.simProc = &simProc{url: "http://" + addr}
		}
		if f := strings.Fields(line); len(f) == 3 && f[0] == "metadata" {
			s.imds[f[1]] = "http://" + f[2]
		}
	}
	if s.simProc == nil || len(s.imds) != 2 {
		t.Fatalf("vpcroute-sim did not announce its listeners: %s", stderr.String())
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	return s
}

// awsEnv is the environment of every AWS invocation: the simulator's key,
// and nothing that could lead the SDK to a real endpoint or profile.
func awsEnv() []string {
	return []string{"AWS_ACCESS_KEY_ID=AKIASIMULATOR0000001", "AWS_SECRET_ACCESS_KEY=sim-aws-secret",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_REGION=eu-west-1"}
}

func (s *awsSim) vpcrouteAWS(t *testing.T, instance string, args ...string) result {
	t.Helper()
	base := takenBy(args[0], "--provider", "aws", "--endpoint", s.url, "--metadata-endpoint", s.imds[instance],
		"--cluster-name", "lab", "--config", emptyConfig)
	return runBinary(t, awsEnv(), append(args, base...)...)
}

// ownedAWS returns the cluster's routes as "dest>eni:state".
func (s *awsSim) ownedAWS(t *testing.T) []string {
	var out []string
	for _, e := range s.entries(t) {
		if e.Origin == sim.OriginCreateRoute && strings.HasPrefix(e.Destination, "10.") {
			out = append(out, e.Destination+">"+e.NextHopID+":"+e.Status)
		}
	}
	slices.Sort(out)
	return out
}

// unownedAWS are the routes vpcroute must never touch.
func (s *awsSim) unownedAWS(t *testing.T) []sim.Entry {
	var out []sim.Entry
	for _, e := range s.entries(t) {
		if !(e.Origin == sim.OriginCreateRoute && strings.HasPrefix(e.Destination, "10.")) {
			out = append(out, e)
		}
	}
	return out
}

func (s *awsSim) instances(t *testing.T) map[string]sim.InstanceSpec {
	var list []sim.InstanceSpec
	s.getJSON(t, "/sim/v1/instances", &list)
	out := map[string]sim.InstanceSpec{}
	for _, in := range list {
		out[in.ID] = in
	}
	return out
}

func TestAWSSyncTwoHostsThenIdempotent(t *testing.T) {
	s := startAWSSim(t)
	before := s.unownedAWS(t)
	for _, h := range []struct{ id, subnet string }{{awsA, "10.0.0.0/24"}, {awsB, "10.1.0.0/24"}} {
		r := s.vpcrouteAWS(t, h.id, append([]string{"sync"}, routesOnly(h.subnet)...)...)
		if r.code != 0 {
			t.Fatalf("sync %s: exit %d: %s", h.id, r.code, r.stderr)
		}
	}
	got := strings.Join(s.ownedAWS(t), " ")
	if got != "10.0.0.0/24>eni-0aaaaaaaaaaaaaaaa:active 10.1.0.0/24>eni-0bbbbbbbbbbbbbbbb:active" {
		t.Fatalf("owned routes = %s", got)
	}
	for id, in := range s.instances(t) {
		if in.SourceDestCheck == nil || *in.SourceDestCheck {
			t.Errorf("%s: source/dest check still on after sync", id)
		}
	}
	first := s.stats(t)
	for _, h := range []struct{ id, subnet string }{{awsA, "10.0.0.0/24"}, {awsB, "10.1.0.0/24"}} {
		r := s.vpcrouteAWS(t, h.id, append([]string{"sync"}, routesOnly(h.subnet)...)...)
		if r.code != 0 || !strings.Contains(r.stdout, "created 0, deleted 0, in sync 1") {
			t.Fatalf("second sync %s: exit %d: %s %s", h.id, r.code, r.stdout, r.stderr)
		}
	}
	if w := s.stats(t).Writes - first.Writes; w != 0 {
		t.Errorf("second syncs made %d write calls, want 0 (source/dest check and tag must not be re-sent)", w)
	}
	if b, a := mustJSON(t, before), mustJSON(t, s.unownedAWS(t)); b != a {
		t.Errorf("unowned routes changed:\nbefore %s\nafter  %s", b, a)
	}
	r := s.vpcrouteAWS(t, awsA, append([]string{"plan", "-o", "json"}, routesOnly("10.0.0.0/24")...)...)
	var plan struct {
		Changes struct {
			Create []any `json:"create"`
			InSync []any `json:"inSync"`
		} `json:"changes"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &plan); err != nil || r.code != 0 || len(plan.Changes.Create) != 0 || len(plan.Changes.InSync) != 1 {
		t.Errorf("plan -o json on EC2: exit %d, %v: %s %s", r.code, err, r.stdout, r.stderr)
	}
	// A bip change moves this host's route; the other host's stays.
	if r := s.vpcrouteAWS(t, awsA, append([]string{"sync"}, routesOnly("10.5.0.0/24")...)...); r.code != 0 {
		t.Fatalf("sync after bip change: %d %s", r.code, r.stderr)
	}
	if got := strings.Join(s.ownedAWS(t), " "); got != "10.1.0.0/24>eni-0bbbbbbbbbbbbbbbb:active 10.5.0.0/24>eni-0aaaaaaaaaaaaaaaa:active" {
		t.Errorf("after bip change: %s", got)
	}
	if r := s.vpcrouteAWS(t, awsA, "sync", "--remove", "--host-config=false", "--cluster-cidr", "10.0.0.0/8"); r.code != 0 {
		t.Fatalf("sync --remove: %d %s", r.code, r.stderr)
	}
	if got := strings.Join(s.ownedAWS(t), " "); got != "10.1.0.0/24>eni-0bbbbbbbbbbbbbbbb:active" {
		t.Errorf("after remove: %s", got)
	}
}

func TestAWSDaemonsRemoveTheBlackholeOfATerminatedHost(t *testing.T) {
	s := startAWSSim(t)
	etcd := etcdtest.Start(t)
	start := func(id, subnet string) *daemonProc {
		d := &daemonProc{id: id, subnet: subnet, addr: freeAddr(t), out: &lockedBuffer{}, done: make(chan struct{})}
		args := []string{"daemon", "--provider", "aws", "--host-config=false", "--cluster-cidr", "10.0.0.0/8", "--subnet", subnet,
			"--status-addr", d.addr, "--debounce", "200ms", "--lease-ttl", testLeaseTTL.String(),
			"--heartbeat-interval", "1s", "--silent-after", "4s", "--resync-interval", "2s",
			"--endpoint", s.url, "--metadata-endpoint", s.imds[id], "--etcd-endpoints", strings.Join(etcd.Endpoints(), ","),
			"--cluster-name", "lab", "--config", emptyConfig, "--cache-dir", t.TempDir()}
		d.cmd = exec.Command(filepath.Join(binDir, "vpcroute"), args...)
		d.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, awsEnv()...)
		out := testsupport.WatchChild(t, "daemon "+id, d.out)
		d.cmd.Stdout, d.cmd.Stderr = out, out
		if err := d.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { _ = d.cmd.Wait(); close(d.done) }()
		t.Cleanup(func() {
			d.kill()
			if t.Failed() {
				t.Logf("daemon %s output:\n%s", id, d.out.String())
			}
		})
		return d
	}
	ds := []*daemonProc{start(awsA, "10.0.0.0/24"), start(awsB, "10.1.0.0/24")}
	want := func(w ...string) {
		t.Helper()
		eventually(t, 20*time.Second, "owned routes "+strings.Join(w, " "), func() error {
			if got := strings.Join(s.ownedAWS(t), " "); got != strings.Join(w, " ") {
				return errorf("owned routes %s", got)
			}
			return nil
		})
	}
	want("10.0.0.0/24>eni-0aaaaaaaaaaaaaaaa:active", "10.1.0.0/24>eni-0bbbbbbbbbbbbbbbb:active")
	var leader string
	eventually(t, 10*time.Second, "leader", func() (err error) { leader, err = leaderOf(ds); return err })
	other := awsA
	if leader == awsA {
		other = awsB
	}
	byID(ds, other).kill()
	deleteInstance(t, s.simProc, other) // terminate: its ENI goes, its route turns blackhole
	keep := "10.0.0.0/24>eni-0aaaaaaaaaaaaaaaa:active"
	if other == awsA {
		keep = "10.1.0.0/24>eni-0bbbbbbbbbbbbbbbb:active"
	}
	took := time.Now()
	want(keep)
	t.Logf("terminated %s: its blackhole route removed %s later", other, time.Since(took).Round(time.Millisecond))
}

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }
