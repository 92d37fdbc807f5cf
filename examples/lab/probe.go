package lab

import (
	"bufio"
	"context"
	"fmt"
	"net/netip"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// pingArgs sends three echo requests 0.2 s apart and waits at most 1 s
// after the last (about 1.4 s for an unreachable target; -w does not bound
// busybox's wait); busybox ping exits 0 when at least one reply came back. Every call is a
// new process, hence a new ICMP id: a fresh conntrack flow, so NAT decisions
// of earlier probes cannot leak into this one.
func pingArgs(to netip.Addr) []string {
	return []string{"ping", "-q", "-c", "3", "-i", "0.2", "-W", "1", to.String()}
}

// ContainerEndpoint is host h's container as a probe endpoint.
func ContainerEndpoint(h *Host) Endpoint {
	return Endpoint{Kind: Container, Host: h.Index, IP: h.ContainerIP()}
}

// HostEndpoint is host h itself as a probe endpoint.
func HostEndpoint(h *Host) Endpoint {
	return Endpoint{Kind: HostNS, Host: h.Index, IP: h.IP}
}

// execFrom runs a busybox applet at an endpoint: in the container, or in the
// host's namespace with the machine's static busybox.
func (l *Lab) execFrom(ctx context.Context, from Endpoint, args ...string) (string, error) {
	h := l.Host(from.Host)
	if h == nil {
		return "", fmt.Errorf("endpoint host %d: no such host in the lab", from.Host)
	}
	if from.Kind == Container {
		return l.ContainerExec(ctx, h, args...)
	}
	return l.HostExec(ctx, h, append([]string{busyboxPath}, args...)...)
}

// Ping reports whether from gets an echo reply from to. The error is for a
// probe that could not run at all (container gone, daemon down), never for
// an unreachable target.
func (l *Lab) Ping(ctx context.Context, from Endpoint, to netip.Addr) (bool, error) {
	_, err := l.execFrom(ctx, from, pingArgs(to)...)
	if err == nil {
		return true, nil
	}
	if exitCode(err) == 1 { // busybox: no reply (or no route)
		return false, nil
	}
	return false, fmt.Errorf("ping %s from %s: %w", to, from.Label(), err)
}

// maxParallelProbes bounds concurrent probes; each is a docker exec or an
// nsenter and the machine has few cores.
const maxParallelProbes = 12

// Matrix probes every cell of the reachability matrix, in parallel.
func (l *Lab) Matrix(ctx context.Context) (*Matrix, error) {
	var containers, hosts []Endpoint
	for _, h := range l.hostList() {
		containers = append(containers, ContainerEndpoint(h))
		hosts = append(hosts, HostEndpoint(h))
	}
	m := NewMatrix(containers, hosts)
	probes := m.Probes()
	sem := make(chan struct{}, maxParallelProbes)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []string
	)
	for _, p := range probes {
		wg.Add(1)
		sem <- struct{}{}
		go func(p Probe) {
			defer wg.Done()
			defer func() { <-sem }()
			ok, err := l.Ping(ctx, p.From, p.To.IP)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err.Error())
				return
			}
			m.Set(p.Row, p.Col, ok)
		}(p)
	}
	wg.Wait()
	if len(errs) > 0 {
		return m, fmt.Errorf("reachability matrix: %d of %d probes could not run: %s", len(errs), len(probes), strings.Join(errs, "; "))
	}
	return m, nil
}

// PeerAddr opens a new TCP connection from an endpoint to host to's
// container and returns the source address the receiving container saw
// (its httpd's REMOTE_ADDR). A new connection means a new source port, so
// conntrack cannot reuse an older NAT decision.
func (l *Lab) PeerAddr(ctx context.Context, from Endpoint, to *Host) (netip.Addr, error) {
	url := fmt.Sprintf("http://%s:%d/cgi-bin/peer", to.ContainerIP(), ContainerPort)
	// busybox 1.35's wget crashes with -T, so busybox timeout bounds it.
	wget := []string{"wget"}
	if from.Kind == HostNS {
		wget = []string{busyboxPath, "wget"}
	}
	args := append(append([]string{"timeout", "5"}, wget...), "-q", "-O", "-", url)
	out, err := l.execFrom(ctx, from, args...)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("fetch %s from %s: %w", url, from.Label(), err)
	}
	// httpd reports IPv4 peers of its dual-stack socket as "[::ffff:a.b.c.d]".
	s := strings.Trim(strings.TrimSpace(out), "[]")
	a, err := netip.ParseAddr(s)
	a = a.Unmap()
	if err != nil {
		return netip.Addr{}, fmt.Errorf("fetch %s from %s: answer %q is not an address", url, from.Label(), out)
	}
	return a, nil
}

// PingWatch is a stream of fresh pings running in a container.
type PingWatch struct {
	// First receives the time of the first echo reply, once.
	First <-chan time.Time
	l     *Lab
	h     *Host
	pid   string
	cmd   *exec.Cmd
	done  chan struct{}
}

// watchScript starts a new single ping every 0.1 s, each in the background
// with its own process and so its own ICMP id. One continuous ping would
// keep one conntrack flow, and with it the NAT decision taken before
// vpcroute's exemption existed (lab.md): its replies would prove only that
// masqueraded traffic works. $1 is the number of pings, $2 the target.
const watchScript = `echo $$; i=0; while [ $i -lt "$1" ]; do ping -c 1 -W 1 "$2" & sleep 0.1; i=$((i+1)); done; wait`

// WatchPing starts fresh pings (every 0.1 s, for at most limit) from host
// from's container to addr; First fires at the first reply. Call Stop.
// It measures how long after a change the data path starts to work.
func (l *Lab) WatchPing(ctx context.Context, from *Host, to netip.Addr, limit time.Duration) (*PingWatch, error) {
	count := strconv.Itoa(int(limit / (100 * time.Millisecond)))
	args := []string{"--config", filepath.Join(from.Dir, "cli"), "-H", from.DockerHost, "exec", containerName,
		"sh", "-c", watchScript, "sh", count, to.String()}
	cmd := exec.Command("docker", args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("watch ping: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("watch ping: start docker exec: %w", err)
	}
	first := make(chan time.Time, 1)
	pidc := make(chan string, 1)
	w := &PingWatch{First: first, l: l, h: from, cmd: cmd, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		sc := bufio.NewScanner(out)
		gotPID, fired := false, false
		for sc.Scan() {
			line := sc.Text()
			if !gotPID {
				pidc <- strings.TrimSpace(line)
				gotPID = true
				continue
			}
			if !fired && strings.Contains(line, "bytes from") {
				first <- time.Now()
				fired = true
			}
		}
		if !gotPID {
			close(pidc)
		}
		_ = cmd.Wait() // ends when the ping ends; Stop reports problems
	}()
	select {
	case pid, ok := <-pidc:
		if !ok || pid == "" {
			return nil, fmt.Errorf("watch ping from %s: the exec printed no pid", from.Name)
		}
		w.pid = pid
	case <-time.After(l.cfg.StepTimeout):
		_ = cmd.Process.Kill()
		return nil, fmt.Errorf("watch ping from %s: no start within %s", from.Name, l.cfg.StepTimeout)
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		return nil, fmt.Errorf("watch ping: %w", ctx.Err())
	}
	return w, nil
}

// Stop ends the ping loop inside the container (killing the docker CLI
// alone would leave it running there) and waits for the watcher; pings in
// flight end by themselves within a second.
func (w *PingWatch) Stop(ctx context.Context) error {
	_, kerr := w.l.ContainerExec(ctx, w.h, "kill", w.pid)
	select {
	case <-w.done:
	case <-time.After(5 * time.Second):
		_ = w.cmd.Process.Kill()
		<-w.done
	}
	if kerr != nil && exitCode(kerr) != 1 { // 1: the ping already ended
		return fmt.Errorf("stop ping watch: %w", kerr)
	}
	return nil
}
