package lab

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/vpcroute/vpcroute/internal/procstop"
)

// simProc is the running simulator.
type simProc struct {
	cmd    *exec.Cmd
	exited chan struct{}
	err    error
	// Endpoint is the API and metadata base URL as hosts reach it.
	endpoint string
	sock     string
	logPath  string
	client   *http.Client
}

// startSim runs vpcroute-sim inside the router namespace, listening on the
// router's address (hosts reach it over the vswitch) and on a unix socket
// for the admin API (unix sockets cross network namespaces, so the test
// process stays in the root namespace and still talks to it). Its data-plane
// hook programs the router namespace's own routing table.
func (l *Lab) startSim(ctx context.Context) error {
	hosts := make([]HostPlan, len(l.Hosts))
	for i, h := range l.Hosts {
		hosts[i] = h.HostPlan
	}
	topo, err := l.simTopology(hosts)
	if err != nil {
		return err
	}
	topoPath := filepath.Join(l.Dir, "topology.yaml")
	if err := os.WriteFile(topoPath, topo, 0o600); err != nil {
		return fmt.Errorf("write topology: %w", err)
	}
	s := &simProc{
		exited:  make(chan struct{}),
		sock:    filepath.Join(l.Dir, "sim.sock"),
		logPath: filepath.Join(l.Dir, "sim.log"),
	}
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("simulator log: %w", err)
	}
	args := []string{"--net=" + nsPath(l.Router), "--", filepath.Join(l.cfg.BinDir, "vpcroute-sim"),
		"--listen", RouterIP + ":0",
		"--listen", "unix:" + s.sock,
		"--topology", topoPath,
		"--dataplane-netns", "self",
		// Every call with its caller's address: SimCallsSince tells
		// which host wrote, and in what order.
		"--log-level", "debug",
	}
	args = append(args, l.cloud.simArgs(l.cfg.PendingDelay)...)
	cmd := exec.Command("nsenter", args...)
	cmd.Stderr = l.races.watch("vpcroute-sim", logf)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // see startDockerd
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		logf.Close()
		return fmt.Errorf("simulator stdout: %w", err)
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start simulator: %w", err)
	}
	s.cmd = cmd
	l.sim = s
	addrs := make(chan string, 1)
	// The reader copies every line to the log (the pipe must be drained for
	// the simulator's whole life) and reports the first listening address
	// on the router's IP.
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(stdout)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(logf, line)
			if a, ok := parseListening(line); ok && !sent {
				addrs <- a
				sent = true
			}
		}
		// Drain whatever a too-long line left, so the child never blocks.
		_, _ = io.Copy(logf, stdout)
	}()
	go func() {
		s.err = cmd.Wait() // returns once stderr is copied
		<-copied
		logf.Close()
		close(s.exited)
	}()
	select {
	case a := <-addrs:
		s.endpoint = "http://" + a
	case <-s.exited:
		return fmt.Errorf("simulator exited (%v): %s", s.err, tail(s.logPath, 15))
	case <-time.After(l.cfg.StepTimeout):
		return fmt.Errorf("simulator printed no \"listening on %s:PORT\" line within %s: %s", RouterIP, l.cfg.StepTimeout, tail(s.logPath, 15))
	case <-ctx.Done():
		return fmt.Errorf("start simulator: %w", ctx.Err())
	}
	s.client = &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", s.sock)
		}},
	}
	// The unix listener may come up just after the TCP one.
	deadline := time.Now().Add(l.cfg.StepTimeout)
	for {
		_, err := l.SimRoutesJSON(ctx)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("simulator admin API on %s: %w", s.sock, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	l.log.Info("simulator up")
	return nil
}

// parseListening reads the simulator's "listening on HOST:PORT" line and
// returns the address when it is the router's.
func parseListening(line string) (string, bool) {
	i := strings.Index(line, "listening on ")
	if i < 0 {
		return "", false
	}
	f := strings.Fields(line[i+len("listening on "):])
	if len(f) == 0 {
		return "", false
	}
	ap, err := netip.ParseAddrPort(strings.TrimPrefix(f[0], "http://"))
	if err != nil || ap.Addr().String() != RouterIP || ap.Port() == 0 {
		return "", false
	}
	return ap.String(), true
}

// stopSim ends the simulator: SIGTERM, SIGKILL after grace.
func (l *Lab) stopSim(grace time.Duration) error {
	s := l.sim
	if s == nil || s.cmd == nil {
		return nil
	}
	if s.client != nil {
		s.client.CloseIdleConnections()
	}
	if err := procstop.Stop(s.cmd.Process, s.exited, syscall.SIGTERM, grace); err != nil {
		return fmt.Errorf("simulator: %w", err)
	}
	return nil
}

// SimEndpoint is the simulator's API and metadata base URL as the hosts
// reach it ("http://192.168.1.253:PORT"); empty without a simulator.
func (l *Lab) SimEndpoint() string {
	if l.sim == nil {
		return ""
	}
	return l.sim.endpoint
}

// simDo calls the admin API and returns the body of a 2xx answer.
func (l *Lab) simDo(ctx context.Context, method, path string, body []byte) ([]byte, error) {
	if l.sim == nil || l.sim.client == nil {
		return nil, fmt.Errorf("%s %s: the lab has no simulator (Config.BinDir is empty)", method, path)
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://sim"+path, rd)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := l.sim.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: read body: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(out)))
	}
	return out, nil
}

// SimRoutesJSON returns GET /sim/v1/routes exactly as served.
func (l *Lab) SimRoutesJSON(ctx context.Context) ([]byte, error) {
	return l.simDo(ctx, http.MethodGet, "/sim/v1/routes", nil)
}

// SimEntries returns the simulator's route entries, each with its raw JSON.
func (l *Lab) SimEntries(ctx context.Context) ([]SimEntry, error) {
	b, err := l.SimRoutesJSON(ctx)
	if err != nil {
		return nil, err
	}
	return ParseSimRoutes(b)
}

// SimStatsJSON returns GET /sim/v1/stats exactly as served.
func (l *Lab) SimStatsJSON(ctx context.Context) ([]byte, error) {
	return l.simDo(ctx, http.MethodGet, "/sim/v1/stats", nil)
}

// SimPutRoute puts an entry into a table through the admin API, as someone
// other than vpcroute would (a NAT gateway, a VPN, a colleague).
func (l *Lab) SimPutRoute(ctx context.Context, r SimRoute) error {
	if r.Table == "" {
		r.Table = l.RouteTableID()
	}
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode route %s: %w", r.Destination, err)
	}
	if _, err := l.simDo(ctx, http.MethodPost, "/sim/v1/routes", b); err != nil {
		return fmt.Errorf("put route %s -> %s/%s: %w", r.Destination, r.NextHopType, r.NextHopID, err)
	}
	return nil
}

// SimDeleteRoute deletes an entry behind vpcroute's back, as an operator
// clicking in the console would.
func (l *Lab) SimDeleteRoute(ctx context.Context, table, destination string) error {
	q := url.Values{"table": {table}, "destination": {destination}}
	if _, err := l.simDo(ctx, http.MethodDelete, "/sim/v1/routes?"+q.Encode(), nil); err != nil {
		return fmt.Errorf("delete route %s from %s: %w", destination, table, err)
	}
	return nil
}

// SimAddInstance creates host h's instance in the simulated cloud (POST
// /sim/v1/instances): a new ECS instance on the lab's vswitch at h's
// address (on EC2 an instance in the lab's subnet with its primary ENI and
// the instance role), which the metadata service then answers for.
func (l *Lab) SimAddInstance(ctx context.Context, h *Host) error {
	b, err := json.Marshal(l.cloud.simInstance(h.HostPlan))
	if err != nil {
		return fmt.Errorf("encode instance %s: %w", h.InstanceID, err)
	}
	if _, err := l.simDo(ctx, http.MethodPost, "/sim/v1/instances", b); err != nil {
		return fmt.Errorf("add instance %s: %w", h.InstanceID, err)
	}
	return nil
}

// SimRemoveInstance releases an instance in the simulated cloud (DELETE
// /sim/v1/instances/ID): DescribeInstances and the metadata service no
// longer know it (on EC2 it is listed terminated and its primary ENI is
// deleted, so its routes turn blackhole), its route entries stay for a
// reconciler to find, and the router drops their kernel routes.
func (l *Lab) SimRemoveInstance(ctx context.Context, id string) error {
	if _, err := l.simDo(ctx, http.MethodDelete, "/sim/v1/instances/"+url.PathEscape(id), nil); err != nil {
		return fmt.Errorf("release instance %s: %w", id, err)
	}
	return nil
}
