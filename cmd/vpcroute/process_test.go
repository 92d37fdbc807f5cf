package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/cloud/sim"
	"github.com/vpcroute/vpcroute/internal/testsupport"
)

// These tests run `vpcroute` and `vpcroute-sim` as processes, as an operator
// would. Every endpoint is the simulator on loopback; the credentials are
// the simulator's own; metadata is asked per instance through the
// simulator's /sim/v1/instances/<id> prefix.

var binDir, emptyConfig string

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		// -short (make unit) runs no process: nothing to build.
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "vpcroute-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// Built with -race when this test binary is: the daemons run under the
	// race detector too, and the harness fails a test whose child reports
	// a race.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	err = testsupport.BuildBinaries(ctx, dir, testsupport.VpcroutePkg, testsupport.VpcrouteSimPkg)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "build binaries:", err)
		os.Exit(1)
	}
	binDir = dir
	// An empty config file keeps the tests off /etc/vpcroute/config.yaml.
	emptyConfig = filepath.Join(dir, "empty.yaml")
	if err := os.WriteFile(emptyConfig, nil, 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

const topologyFiveHosts = `
region: cn-zhangjiakou
vpc: {id: vpc-lab, cidr: 192.168.0.0/16}
vswitches: [{id: vsw-lab, cidr: 192.168.1.0/24}]
routeTables:
  - id: vtb-lab
    type: System
    routes:
      - {destination: 0.0.0.0/0, nextHopType: NatGateway, nextHopId: ngw-lab, name: internet}
      - {destination: 172.16.0.0/12, nextHopType: VpnGateway, nextHopId: vpn-office, name: office-vpn, description: to the office}
      - {destination: 10.9.0.0/24, nextHopType: VpnGateway, nextHopId: vpn-office, name: partner}
instances:
  - {id: i-aaa, privateIp: 192.168.1.196}
  - {id: i-bbb, privateIp: 192.168.1.197}
  - {id: i-h3, privateIp: 192.168.1.13}
  - {id: i-h4, privateIp: 192.168.1.14}
  - {id: i-h5, privateIp: 192.168.1.15}
  - {id: i-norole, privateIp: 192.168.1.99}
credentials:
  - {accessKeyId: LTAI-test, accessKeySecret: test-secret}
behaviour:
  pendingDelay: %s
`

type simProc struct {
	url string
	cmd *exec.Cmd // nil for an address nothing listens on yet
}

// startSim runs vpcroute-sim with the given pending delay and returns its URL.
func startSim(t *testing.T, pending string) *simProc {
	t.Helper()
	return startSimAt(t, pending, "127.0.0.1:0")
}

// startSimAt is startSim listening on addr (a daemon may have been told the
// address before the simulator runs: the cloud API comes back).
func startSimAt(t *testing.T, pending, addr string) *simProc {
	t.Helper()
	testsupport.SkipIfShort(t, "runs the vpcroute-sim process")
	topo := filepath.Join(t.TempDir(), "topology.yaml")
	if err := os.WriteFile(topo, []byte(fmt.Sprintf(topologyFiveHosts, pending)), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(binDir, "vpcroute-sim"), "--listen", addr, "--topology", topo)
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
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() {
		t.Fatalf("vpcroute-sim printed nothing: %s", stderr.String())
	}
	addr, ok := strings.CutPrefix(lines.Text(), "listening on ")
	if !ok {
		t.Fatalf("vpcroute-sim first line %q", lines.Text())
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	return &simProc{url: "http://" + addr, cmd: cmd}
}

// kill ends the simulator at once: its route tables are lost with it.
func (s *simProc) kill() {
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
}

func (s *simProc) getJSON(t *testing.T, path string, v any) {
	t.Helper()
	resp, err := http.Get(s.url + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v: %s", path, err, b)
	}
}

func (s *simProc) stats(t *testing.T) sim.Stats {
	var st sim.Stats
	s.getJSON(t, "/sim/v1/stats", &st)
	return st
}

func (s *simProc) entries(t *testing.T) []sim.Entry {
	var resp struct {
		Tables []sim.Table `json:"tables"`
	}
	s.getJSON(t, "/sim/v1/routes", &resp)
	var out []sim.Entry
	for _, tb := range resp.Tables {
		out = append(out, tb.Entries...)
	}
	return out
}

// owned returns vpcroute's entries as "dest>nexthop:status".
func (s *simProc) owned(t *testing.T) []string {
	var out []string
	for _, e := range s.entries(t) {
		if strings.HasPrefix(e.Name, "vpcroute-") {
			out = append(out, e.Destination+">"+e.NextHopID+":"+e.Status)
		}
	}
	return out
}

type result struct {
	code           int
	stdout, stderr string
}

// vpcroute runs the CLI for instance with simulator-only credentials.
func (s *simProc) vpcroute(t *testing.T, instance string, env []string, args ...string) result {
	t.Helper()
	testsupport.SkipIfShort(t, "runs the vpcroute binary")
	base := takenBy(args[0], "--endpoint", s.url, "--metadata-endpoint", s.url+"/sim/v1/instances/"+instance,
		"--cluster-name", "lab", "--config", emptyConfig)
	env = append([]string{"ALIBABA_CLOUD_ACCESS_KEY_ID=LTAI-test", "ALIBABA_CLOUD_ACCESS_KEY_SECRET=test-secret"}, env...)
	return runBinary(t, env, append(args, base...)...)
}

// runBinary runs the built vpcroute with args, with only PATH and env in
// its environment.
func runBinary(t *testing.T, env []string, args ...string) result {
	t.Helper()
	testsupport.SkipIfShort(t, "runs the vpcroute binary")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "vpcroute"), args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	testsupport.CheckChild(t, "vpcroute "+args[0], stderr.String(), err)
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, stdout.String(), stderr.String()}
}

// routesOnly are the flags of a sync that leaves the host alone, so these
// tests change nothing on the machine they run on.
func routesOnly(subnet string) []string {
	return []string{"--host-config=false", "--cluster-cidr", "10.0.0.0/8", "--subnet", subnet}
}

func TestSyncTwoHostsThenIdempotent(t *testing.T) {
	s := startSim(t, "200ms")
	start := time.Now()
	for _, h := range []struct{ id, subnet string }{{"i-aaa", "10.0.0.0/24"}, {"i-bbb", "10.1.0.0/24"}} {
		r := s.vpcroute(t, h.id, nil, append([]string{"sync"}, routesOnly(h.subnet)...)...)
		if r.code != 0 {
			t.Fatalf("sync %s: exit %d: %s", h.id, r.code, r.stderr)
		}
	}
	t.Logf("two syncs with a 200ms pending delay took %s", time.Since(start))
	got := strings.Join(s.owned(t), " ")
	if got != "10.0.0.0/24>i-aaa:Available 10.1.0.0/24>i-bbb:Available" {
		t.Fatalf("owned entries = %s", got)
	}
	first := s.stats(t)
	t.Logf("first runs: %d reads, %d writes", first.Reads, first.Writes)
	if first.Writes != 2 {
		t.Errorf("first runs made %d writes, want 2", first.Writes)
	}
	for _, h := range []struct{ id, subnet string }{{"i-aaa", "10.0.0.0/24"}, {"i-bbb", "10.1.0.0/24"}} {
		r := s.vpcroute(t, h.id, nil, append([]string{"sync"}, routesOnly(h.subnet)...)...)
		if r.code != 0 || !strings.Contains(r.stdout, "created 0, deleted 0, in sync 1") {
			t.Fatalf("second sync %s: exit %d: %s %s", h.id, r.code, r.stdout, r.stderr)
		}
	}
	second := s.stats(t)
	if w := second.Writes - first.Writes; w != 0 {
		t.Errorf("second runs made %d write calls, want 0", w)
	}
	t.Logf("second runs: %d reads, %d writes", second.Reads-first.Reads, second.Writes-first.Writes)

	// plan shows nothing to do, as a table and as JSON.
	r := s.vpcroute(t, "i-aaa", nil, append([]string{"plan", "-o", "json"}, routesOnly("10.0.0.0/24")...)...)
	var plan struct {
		Changes struct {
			Create []any `json:"create"`
			InSync []any `json:"inSync"`
		} `json:"changes"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &plan); err != nil || r.code != 0 || len(plan.Changes.Create) != 0 || len(plan.Changes.InSync) != 1 {
		t.Errorf("plan -o json: exit %d, %v: %s", r.code, err, r.stdout)
	}
	r = s.vpcroute(t, "i-aaa", nil, append([]string{"plan"}, routesOnly("10.0.0.0/24")...)...)
	if r.code != 0 || !strings.Contains(r.stdout, "keep    vtb-lab  10.0.0.0/24") || !strings.Contains(r.stdout, "no changes") {
		t.Errorf("plan (a table by default): exit %d: %s %s", r.code, r.stdout, r.stderr)
	}

	// A bip change: the old entry goes, the new one comes; the other host's stays.
	r = s.vpcroute(t, "i-aaa", nil, append([]string{"sync"}, routesOnly("10.5.0.0/24")...)...)
	if r.code != 0 {
		t.Fatalf("sync after bip change: %d %s", r.code, r.stderr)
	}
	if got := strings.Join(s.owned(t), " "); got != "10.1.0.0/24>i-bbb:Available 10.5.0.0/24>i-aaa:Available" {
		t.Errorf("after bip change: %s", got)
	}
	// Decommission.
	r = s.vpcroute(t, "i-aaa", nil, "sync", "--remove", "--host-config=false", "--cluster-cidr", "10.0.0.0/8")
	if r.code != 0 {
		t.Fatalf("sync --remove: %d %s", r.code, r.stderr)
	}
	if got := strings.Join(s.owned(t), " "); got != "10.1.0.0/24>i-bbb:Available" {
		t.Errorf("after remove: %s", got)
	}
}

func TestSyncFiveHostsAtOnce(t *testing.T) {
	s := startSim(t, "300ms")
	hosts := []string{"i-aaa", "i-bbb", "i-h3", "i-h4", "i-h5"}
	var wg sync.WaitGroup
	results := make([]result, len(hosts))
	start := time.Now()
	for i, h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = s.vpcroute(t, h, nil, append([]string{"sync"}, routesOnly(fmt.Sprintf("10.%d.0.0/24", 20+i))...)...)
		}()
	}
	wg.Wait()
	for i, r := range results {
		if r.code != 0 {
			t.Errorf("%s: exit %d: %s", hosts[i], r.code, r.stderr)
		}
	}
	owned := s.owned(t)
	if len(owned) != 5 {
		t.Fatalf("owned = %v", owned)
	}
	for _, o := range owned {
		if !strings.HasSuffix(o, ":Available") {
			t.Errorf("not Available: %s", o)
		}
	}
	st := s.stats(t)
	t.Logf("five concurrent syncs: %s; create calls by outcome %v", time.Since(start), st.Actions["CreateRouteEntry"])
	if st.Count("CreateRouteEntry", "ok") != 5 {
		t.Errorf("successful creates = %v", st.Actions["CreateRouteEntry"])
	}
}

func TestSyncLeavesUnownedEntries(t *testing.T) {
	s := startSim(t, "50ms")
	before := unowned(s.entries(t))
	r := s.vpcroute(t, "i-aaa", nil, append([]string{"sync"}, routesOnly("10.9.0.0/24")...)...)
	if r.code != 1 {
		t.Errorf("exit %d, want 1: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "10.9.0.0/24 in vtb-lab is held by VpnGateway/vpn-office (entry partner)") || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 && !strings.Contains(r.stderr, "vpcroute: ") {
		t.Errorf("stderr does not name the holder: %s", r.stderr)
	}
	// A host whose subnet is free syncs, and leaves the others alone too.
	if r := s.vpcroute(t, "i-bbb", nil, append([]string{"sync"}, routesOnly("10.1.0.0/24")...)...); r.code != 0 {
		t.Errorf("sync i-bbb: %d %s", r.code, r.stderr)
	}
	after := unowned(s.entries(t))
	if b, a := mustJSON(t, before), mustJSON(t, after); b != a {
		t.Errorf("unowned entries changed:\nbefore %s\nafter  %s", b, a)
	}
	if st := s.stats(t); st.Calls("DeleteRouteEntry")+st.Calls("DeleteRouteEntries") != 0 {
		t.Errorf("a delete was sent: %v", st.Actions)
	}
}

func unowned(es []sim.Entry) []sim.Entry {
	var out []sim.Entry
	for _, e := range es {
		if !strings.HasPrefix(e.Name, "vpcroute-") {
			out = append(out, e)
		}
	}
	return out
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestBadInputChangesNothing(t *testing.T) {
	s := startSim(t, "50ms")
	tests := []struct {
		name     string
		instance string
		env      []string
		args     []string
		code     int
		want     string
	}{
		{"malformed cluster CIDR", "i-aaa", nil, []string{"sync", "--host-config=false", "--cluster-cidr", "10.0.0/8", "--subnet", "10.0.0.0/24"},
			2, `cluster-cidr "10.0.0/8" is invalid: expected an IPv4 CIDR such as 10.0.0.0/8`},
		{"malformed subnet", "i-aaa", nil, []string{"sync", "--host-config=false", "--cluster-cidr", "10.0.0.0/8", "--subnet", "10.0.0.300/24"},
			2, `subnet "10.0.0.300/24" is invalid`},
		{"bip overlapping the VPC", "i-aaa", nil, []string{"sync", "--host-config=false", "--cluster-cidr", "192.0.0.0/8", "--subnet", "192.168.5.0/24"},
			2, "subnet 192.168.5.0/24 overlaps the VPC CIDR 192.168.0.0/16"},
		{"bip outside the cluster", "i-aaa", nil, []string{"sync", "--host-config=false", "--cluster-cidr", "10.0.0.0/8", "--subnet", "172.17.0.0/16"},
			2, "subnet 172.17.0.0/16 is outside the cluster CIDR 10.0.0.0/8"},
		{"missing cluster CIDR", "i-aaa", nil, []string{"sync", "--host-config=false", "--subnet", "10.0.0.0/24"},
			2, "cluster-cidr is required"},
		{"missing credentials", "i-norole", []string{"ALIBABA_CLOUD_ACCESS_KEY_ID=", "ALIBABA_CLOUD_ACCESS_KEY_SECRET="},
			[]string{"sync", "--host-config=false", "--cluster-cidr", "10.0.0.0/8", "--subnet", "10.0.0.0/24"},
			1, "no Alibaba Cloud credentials"},
		{"unknown flag", "i-aaa", nil, []string{"sync", "--cluster-cdr", "10.0.0.0/8"}, 2, "unknown flag: --cluster-cdr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.vpcroute(t, tt.instance, tt.env, tt.args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", r.code, r.stderr, tt.code, tt.want)
			}
			if lines := strings.Split(strings.TrimSpace(r.stderr), "\n"); len(lines) != 1 {
				t.Errorf("stderr has %d lines, want one: %q", len(lines), r.stderr)
			}
			if strings.Contains(r.stderr, "test-secret") {
				t.Error("the secret was printed")
			}
		})
	}
	if st := s.stats(t); st.Writes != 0 {
		t.Errorf("bad input caused %d write calls", st.Writes)
	}
}

// takenBy keeps of settings (--flag value, --flag=value, --bool-flag) the
// flags command takes. The harnesses give every command one set of
// settings, as an operator's wrapper script might; vpcroute refuses a flag
// that a command does not use, so each gets its share.
func takenBy(command string, settings ...string) []string {
	_, shared := newOptions()
	cmd, _, err := newRootCommand(io.Discard, io.Discard, func(string) (string, bool) { return "", false }).Find([]string{command})
	if err != nil {
		panic(err)
	}
	var out []string
	for i := 0; i < len(settings); i++ {
		name, _, inline := strings.Cut(strings.TrimPrefix(settings[i], "--"), "=")
		n := 1
		if f := shared.Lookup(name); !inline && (f == nil || f.Value.Type() != "bool") {
			n = 2 // the value follows
		}
		if cmd.Flags().Lookup(name) != nil {
			out = append(out, settings[i:min(i+n, len(settings))]...)
		}
		i += n - 1
	}
	return out
}
