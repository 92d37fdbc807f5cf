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
	"syscall"
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/cloud/sim"
	"github.com/vpcroute/vpcroute/internal/procstop"
)

// benchIdleWindow is how long the agent is watched once it is idle.
const benchIdleWindow = 30 * time.Second

// BenchmarkDaemonIdle runs `vpcroute daemon` in self mode (no etcd, routes
// only: --host-config=false) against a vpcroute-sim process on loopback,
// waits until its route is Available and /readyz answers, then watches it
// for benchIdleWindow and reports its resident memory and the CPU it used,
// read from /proc. Both processes are the binaries TestMain built.
func BenchmarkDaemonIdle(b *testing.B) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		b.Skip("needs Linux /proc to read the agent's memory and CPU")
	}
	simURL := benchStartSim(b)
	tick := benchClockTicks()
	var rss, hwm, cpu, ready float64
	for range b.N {
		b.StopTimer()
		d := benchStartDaemon(b, simURL)
		start := time.Now()
		benchWaitReady(b, d, simURL)
		readyTook := time.Since(start)
		b.StartTimer()
		before := benchProcCPUTicks(b, d.pid())
		from := time.Now()
		time.Sleep(benchIdleWindow)
		after := benchProcCPUTicks(b, d.pid())
		window := time.Since(from)
		mem := benchProcStatusKiB(b, d.pid())
		b.StopTimer()
		if !d.alive() {
			b.Fatalf("the daemon exited during the idle window:\n%s", d.output())
		}
		d.stop(b)
		rss += float64(mem["VmRSS"]) / 1024
		hwm += float64(mem["VmHWM"]) / 1024
		cpu += float64(after-before) / tick / window.Seconds() * 100
		ready += readyTook.Seconds()
	}
	n := float64(b.N)
	b.ReportMetric(rss/n, "rss-MiB")
	b.ReportMetric(hwm/n, "peak-rss-MiB")
	b.ReportMetric(cpu/n, "cpu-%")
	b.ReportMetric(ready/n, "ready-s")
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
	cmd     *exec.Cmd
	addr    string
	logPath string
	done    chan struct{}
}

// benchStartDaemon starts the agent for i-aaa with every default but the
// ones that keep it off the host and off any real endpoint.
func benchStartDaemon(b *testing.B, simURL string) *benchDaemon {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		b.Fatal(err)
	}
	d := &benchDaemon{addr: addr, logPath: filepath.Join(b.TempDir(), "daemon.log"), done: make(chan struct{})}
	logFile, err := os.Create(d.logPath)
	if err != nil {
		b.Fatal(err)
	}
	defer logFile.Close()
	d.cmd = exec.Command(filepath.Join(binDir, "vpcroute"), "daemon",
		"--host-config=false", "--subnet", "10.1.0.0/24", "--cluster-cidr", "10.0.0.0/8",
		"--endpoint", simURL, "--metadata-endpoint", simURL+"/sim/v1/instances/i-aaa",
		"--cluster-name", "bench", "--status-addr", addr, "--config", emptyConfig, "--cache-dir", b.TempDir())
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
		b.Fatalf("the daemon %v:\n%s", err, d.output())
	}
}

// benchWaitReady waits until /readyz answers 200 and the simulator shows
// the daemon's route Available.
func benchWaitReady(b *testing.B, d *benchDaemon, simURL string) {
	b.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		if !d.alive() {
			b.Fatalf("the daemon exited before it was ready:\n%s", d.output())
		}
		if benchHTTPStatus("http://"+d.addr+"/readyz") == http.StatusOK && benchRouteAvailable(simURL, "10.1.0.0/24", "i-aaa") {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("the daemon was not ready within a minute:\n%s", d.output())
		}
		time.Sleep(50 * time.Millisecond)
	}
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
