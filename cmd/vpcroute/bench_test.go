package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/cloud/sim"
	"github.com/vpcroute/vpcroute/internal/gobuild"
	"github.com/vpcroute/vpcroute/internal/procstop"
	"github.com/vpcroute/vpcroute/internal/testsupport"
	"github.com/vpcroute/vpcroute/reconciler/registry/etcdtest"
	"github.com/vpcroute/vpcroute/reconciler/status"
)

// benchIdleWindow is how long the agent is watched once it is idle.
const benchIdleWindow = 30 * time.Second

// BenchmarkDaemonIdle runs `vpcroute daemon` as released (built as `make
// build` builds it: gobuild.Released) against a vpcroute-sim process on
// loopback, waits until it is settled, then watches it for benchIdleWindow
// and reports its resident memory and the CPU it used, read from /proc.
//
//   - mode=self: one daemon without etcd (routes only: --host-config=false);
//     settled once /readyz answers and its route is Available.
//   - mode=leader, mode=follower: two daemons (i-aaa, i-bbb) and a real etcd;
//     settled once one leads and both agree on it, both answer /readyz and
//     both routes are Available. The sub-benchmark watches the daemon in its
//     role, and fails if leadership moved during the window.
func BenchmarkDaemonIdle(b *testing.B) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		b.Skip("needs Linux /proc to read the agent's memory and CPU")
	}
	bin := benchReleasedVpcroute(b)
	for _, mode := range []string{"self", "leader", "follower"} {
		b.Run("mode="+mode, func(b *testing.B) {
			var rss, hwm, cpu, ready float64
			for range b.N {
				b.StopTimer()
				simURL := benchStartSim(b)
				var etcd []string
				if mode != "self" {
					etcd = etcdtest.Start(b).Endpoints()
				}
				start := time.Now()
				watched, all := benchSettle(b, bin, simURL, etcd, mode)
				readyTook := time.Since(start)
				b.StartTimer()
				before := benchProcCPUTicks(b, watched.pid())
				from := time.Now()
				time.Sleep(benchIdleWindow)
				after := benchProcCPUTicks(b, watched.pid())
				window := time.Since(from)
				mem := benchProcStatusKiB(b, watched.pid())
				b.StopTimer()
				for _, d := range all {
					if !d.alive() {
						b.Fatalf("daemon %s exited during the idle window:\n%s", d.instance, d.output())
					}
				}
				if mode != "self" && benchRole(watched) != mode {
					b.Fatalf("daemon %s is no longer the %s after the idle window:\n%s", watched.instance, mode, watched.output())
				}
				for _, d := range all {
					d.stop(b)
				}
				rss += float64(mem["VmRSS"]) / 1024
				hwm += float64(mem["VmHWM"]) / 1024
				cpu += float64(after-before) / benchClockTicks() / window.Seconds() * 100
				ready += readyTook.Seconds()
			}
			n := float64(b.N)
			b.ReportMetric(rss/n, "rss-MiB")
			b.ReportMetric(hwm/n, "peak-rss-MiB")
			b.ReportMetric(cpu/n, "cpu-%")
			b.ReportMetric(ready/n, "ready-s")
		})
	}
}

// benchSettle starts the daemons of mode and waits until they are settled
// (BenchmarkDaemonIdle says when); it returns the one to watch and all.
func benchSettle(b *testing.B, bin, simURL string, etcd []string, mode string) (*benchDaemon, []*benchDaemon) {
	b.Helper()
	if mode == "self" {
		d := benchStartDaemon(b, bin, simURL, "i-aaa", "10.1.0.0/24", nil)
		benchWaitReady(b, []*benchDaemon{d}, simURL, func() bool { return true })
		return d, []*benchDaemon{d}
	}
	all := []*benchDaemon{
		benchStartDaemon(b, bin, simURL, "i-aaa", "10.1.0.0/24", etcd),
		benchStartDaemon(b, bin, simURL, "i-bbb", "10.2.0.0/24", etcd),
	}
	var watched *benchDaemon
	benchWaitReady(b, all, simURL, func() bool {
		roles := map[string]*benchDaemon{}
		for _, d := range all {
			roles[benchRole(d)] = d
		}
		watched = roles[mode]
		return len(roles) == 2 && roles["leader"] != nil && roles["follower"] != nil
	})
	return watched, all
}

// benchRole is "leader" or "follower" when d's /status knows who leads,
// else "".
func benchRole(d *benchDaemon) string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	doc, err := status.Fetch(ctx, d.addr)
	switch {
	case err != nil || !doc.Leader.Known:
		return ""
	case doc.Leader.IsSelf:
		return "leader"
	default:
		return "follower"
	}
}

var (
	benchReleasedOnce sync.Once
	benchReleasedPath string
	benchReleasedErr  error
)

// benchBinaryEnv names another vpcroute binary for BenchmarkDaemonIdle to
// measure instead of the released build: an older commit's, or the tests'
// own untagged build, for a before/after comparison.
const benchBinaryEnv = "VPCROUTE_BENCH_BINARY"

// benchReleasedVpcroute builds vpcroute as `make build` does, once per test
// binary (TestMain's build is the tests' own: no tags, -race with -race),
// unless benchBinaryEnv names a binary.
func benchReleasedVpcroute(b *testing.B) string {
	b.Helper()
	if path := os.Getenv(benchBinaryEnv); path != "" {
		if st, err := os.Stat(path); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			b.Fatalf("%s=%q: expected the path of an executable vpcroute binary", benchBinaryEnv, path)
		}
		b.Logf("measuring %s (from %s), not the released build", path, benchBinaryEnv)
		return path
	}
	benchReleasedOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		wd, err := os.Getwd()
		if err != nil {
			benchReleasedErr = err
			return
		}
		mod, err := gobuild.ModuleDir(ctx, wd)
		if err != nil {
			benchReleasedErr = err
			return
		}
		dir := filepath.Join(binDir, "released")
		benchReleasedErr = gobuild.Build(ctx, mod, dir, gobuild.Released(), testsupport.VpcroutePkg)
		benchReleasedPath = filepath.Join(dir, "vpcroute")
	})
	if benchReleasedErr != nil {
		b.Fatalf("build vpcroute as released: %v", benchReleasedErr)
	}
	return benchReleasedPath
}

// benchStartSim runs vpcroute-sim with its default topology (Pending 2 s),
// or what args say, on a loopback port and returns its URL.
func benchStartSim(b *testing.B, args ...string) string {
	b.Helper()
	cmd := exec.Command(filepath.Join(binDir, "vpcroute-sim"), append([]string{"--listen", "127.0.0.1:0"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() {
		b.Fatal("vpcroute-sim printed nothing")
	}
	addr, ok := strings.CutPrefix(lines.Text(), "listening on ")
	if !ok {
		b.Fatalf("vpcroute-sim first line %q", lines.Text())
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	return "http://" + addr
}

// benchDaemon is one `vpcroute daemon` process.
type benchDaemon struct {
	instance string
	cmd      *exec.Cmd
	addr     string
	logPath  string
	done     chan struct{}
}

// benchStartDaemon starts bin's agent for instance, claiming subnet, in
// cluster mode when etcd names endpoints, with every default but the ones
// that keep it off the host and off any real endpoint.
func benchStartDaemon(b *testing.B, bin, simURL, instance, subnet string, etcd []string) *benchDaemon {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		b.Fatal(err)
	}
	d := &benchDaemon{instance: instance, addr: addr, logPath: filepath.Join(b.TempDir(), "daemon.log"), done: make(chan struct{})}
	logFile, err := os.Create(d.logPath)
	if err != nil {
		b.Fatal(err)
	}
	defer logFile.Close()
	args := []string{"daemon",
		"--host-config=false", "--subnet", subnet, "--cluster-cidr", "10.0.0.0/8",
		"--endpoint", simURL, "--metadata-endpoint", simURL + "/sim/v1/instances/" + instance,
		"--cluster-name", "bench", "--status-addr", addr, "--config", emptyConfig, "--cache-dir", b.TempDir()}
	if len(etcd) > 0 {
		args = append(args, "--etcd-endpoints", strings.Join(etcd, ","))
	}
	d.cmd = exec.Command(bin, args...)
	d.cmd.Env = []string{"PATH=" + os.Getenv("PATH"),
		"ALIBABA_CLOUD_ACCESS_KEY_ID=LTAI-test", "ALIBABA_CLOUD_ACCESS_KEY_SECRET=test-secret"}
	d.cmd.Stdout, d.cmd.Stderr = logFile, logFile
	if err := d.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	go func() { _ = d.cmd.Wait(); close(d.done) }()
	b.Cleanup(func() {
		_ = procstop.Stop(d.cmd.Process, d.done, os.Kill, 0) // cleanup: the daemon's end is not measured

	})
	return d
}

func (d *benchDaemon) pid() int { return d.cmd.Process.Pid }

func (d *benchDaemon) alive() bool {
	select {
	case <-d.done:
		return false
	default:
		return true
	}
}

func (d *benchDaemon) output() string {
	out, err := os.ReadFile(d.logPath)
	if err != nil {
		return err.Error()
	}
	return string(out)
}

// stop sends SIGTERM (the daemon keeps its routes) and waits for the exit.
func (d *benchDaemon) stop(b *testing.B) {
	b.Helper()
	if err := procstop.Stop(d.cmd.Process, d.done, syscall.SIGTERM, 15*time.Second); err != nil {
		b.Fatalf("daemon %s %v:\n%s", d.instance, err, d.output())
	}
}

// benchWaitReady waits until every daemon's /readyz answers 200, the
// simulator shows each one's route Available, and settled says yes.
func benchWaitReady(b *testing.B, ds []*benchDaemon, simURL string, settled func() bool) {
	b.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		ready := true
		for _, d := range ds {
			if !d.alive() {
				b.Fatalf("daemon %s exited before it was ready:\n%s", d.instance, d.output())
			}
			ready = ready && benchHTTPStatus("http://"+d.addr+"/readyz") == http.StatusOK &&
				benchRouteAvailable(simURL, benchFlag(d, "--subnet"), d.instance)
		}
		if ready && settled() {
			return
		}
		if time.Now().After(deadline) {
			var logs strings.Builder
			for _, d := range ds {
				fmt.Fprintf(&logs, "daemon %s:\n%s\n", d.instance, d.output())
			}
			b.Fatalf("the daemons were not settled within a minute:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// benchFlag is the value d was started with for name.
func benchFlag(d *benchDaemon, name string) string {
	for i, a := range d.cmd.Args {
		if a == name && i+1 < len(d.cmd.Args) {
			return d.cmd.Args[i+1]
		}
	}
	return ""
}

func benchHTTPStatus(url string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// benchRouteAvailable asks the simulator's admin API whether dest -> instance
// is Available.
func benchRouteAvailable(simURL, dest, instance string) bool {
	resp, err := http.Get(simURL + "/sim/v1/routes")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var body struct {
		Tables []sim.Table `json:"tables"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&body) != nil {
		return false
	}
	for _, t := range body.Tables {
		for _, e := range t.Entries {
			if e.Destination == dest && e.NextHopID == instance && e.Status == sim.StatusAvailable {
				return true
			}
		}
	}
	return false
}

// benchProcCPUTicks is utime+stime of pid, in clock ticks (/proc/PID/stat
// fields 14 and 15).
func benchProcCPUTicks(b *testing.B, pid int) int64 {
	b.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// The command name (field 2) may hold spaces; fields after it start
	// with the state, field 3.
	_, rest, ok := strings.Cut(string(raw), ") ")
	fields := strings.Fields(rest)
	if !ok || len(fields) < 13 {
		b.Fatalf("unexpected /proc/%d/stat: %q", pid, raw)
	}
	var total int64
	for _, f := range fields[11:13] {
		v, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			b.Fatalf("unexpected /proc/%d/stat: %q", pid, raw)
		}
		total += v
	}
	return total
}

// benchProcStatusKiB returns the kB fields of /proc/PID/status (VmRSS, VmHWM...).
func benchProcStatusKiB(b *testing.B, pid int) map[string]int64 {
	b.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	out := map[string]int64{}
	for _, line := range strings.Split(string(raw), "\n") {
		key, val, ok := strings.Cut(line, ":")
		num, isKB := strings.CutSuffix(strings.TrimSpace(val), " kB")
		if !ok || !isKB {
			continue
		}
		if v, err := strconv.ParseInt(num, 10, 64); err == nil {
			out[key] = v
		}
	}
	if out["VmRSS"] == 0 {
		b.Fatalf("no VmRSS in /proc/%d/status", pid)
	}
	return out
}

// benchClockTicks is USER_HZ, the unit of /proc/PID/stat times: what
// `getconf CLK_TCK` says, else 100, its value on every Linux architecture
// Go supports.
func benchClockTicks() float64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err != nil {
		return 100
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil || v <= 0 {
		return 100
	}
	return v
}
