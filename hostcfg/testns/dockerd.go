package testns

import (
	"bufio"
	"context"
	"errors"
	"fmt"
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

	"github.com/vpcroute/vpcroute/internal/procstop"
)

// DockerdConfig says how to start a dockerd in a namespace.
type DockerdConfig struct {
	// Bip is the default bridge's address, e.g. "10.0.0.1/24".
	Bip string
	// Args are extra dockerd arguments.
	Args []string
	// StartTimeout bounds the wait for the API; 60s when zero.
	StartTimeout time.Duration
}

// Dockerd is a dockerd running in a network namespace with its own
// data-root, exec-root (where its containerd lives), socket and pidfile,
// all under Dir.
type Dockerd struct {
	// NS is the namespace dockerd runs in.
	NS *NS
	// Dir holds everything the daemon writes. It is short (/tmp/vr-XXXX)
	// because unix socket paths must stay under 108 bytes.
	Dir string
	// Host is the daemon's address for Docker clients: unix://Dir/d.sock.
	Host string

	cmd  *exec.Cmd
	done chan struct{}
	err  error // from Wait, valid after done is closed
}

// StartDockerd starts dockerd inside ns and waits until its API answers.
// It enters only the network namespace: `ip netns exec` remounts /sys and
// dockerd then fails ("Devices cgroup isn't mounted"). Docker sets up, in
// that namespace only, ip_forward, FORWARD DROP and its chains. The daemon
// gets SIGTERM if the calling process dies. Call Stop when done.
func StartDockerd(ctx context.Context, ns *NS, cfg DockerdConfig) (*Dockerd, error) {
	dir, err := os.MkdirTemp("/tmp", "vr-")
	if err != nil {
		return nil, fmt.Errorf("dockerd dir: %w", err)
	}
	d := &Dockerd{NS: ns, Dir: dir, Host: "unix://" + filepath.Join(dir, "d.sock"), done: make(chan struct{})}
	// An explicit empty config, so /etc/docker/daemon.json of the machine
	// running the tests plays no part.
	if err := os.WriteFile(filepath.Join(dir, "daemon.json"), []byte("{}\n"), 0o644); err != nil {
		return nil, errors.Join(fmt.Errorf("dockerd config: %w", err), os.RemoveAll(dir))
	}
	logf, err := os.Create(filepath.Join(dir, "dockerd.log"))
	if err != nil {
		return nil, errors.Join(fmt.Errorf("dockerd log: %w", err), os.RemoveAll(dir))
	}
	args := []string{
		"--data-root", filepath.Join(dir, "data"),
		"--exec-root", filepath.Join(dir, "exec"),
		"-H", d.Host,
		"--pidfile", filepath.Join(dir, "d.pid"),
		"--config-file", filepath.Join(dir, "daemon.json"),
	}
	if cfg.Bip != "" {
		args = append(args, "--bip", cfg.Bip)
	}
	args = append(args, cfg.Args...)
	// Not CommandContext: the daemon outlives the start-up context.
	d.cmd = exec.Command("nsenter", append([]string{"--net=" + ns.Path, "--", "dockerd"}, args...)...)
	d.cmd.Stdout, d.cmd.Stderr = logf, logf
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := d.cmd.Start(); err != nil {
		return nil, errors.Join(fmt.Errorf("start dockerd: %w", err), logf.Close(), os.RemoveAll(dir))
	}
	go func() {
		d.err = d.cmd.Wait()
		_ = logf.Close() // the daemon is gone; nothing more to write
		close(d.done)
	}()

	timeout := cfg.StartTimeout
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := d.waitReady(wctx); err != nil {
		return nil, errors.Join(err, d.Stop())
	}
	return d, nil
}

// waitReady polls GET /_ping on the socket until it answers 200.
func (d *Dockerd) waitReady(ctx context.Context) error {
	sock := strings.TrimPrefix(d.Host, "unix://")
	hc := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var dl net.Dialer
			return dl.DialContext(ctx, "unix", sock)
		},
	}, Timeout: 2 * time.Second}
	defer hc.CloseIdleConnections()
	for {
		resp, err := hc.Get("http://docker/_ping")
		if err == nil {
			_ = resp.Body.Close() // status is all we need
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-d.done:
			return fmt.Errorf("dockerd in %s exited during start-up (%v):\n%s", d.NS.Name, d.err, d.LogTail(30))
		case <-ctx.Done():
			return fmt.Errorf("dockerd in %s not ready: %w:\n%s", d.NS.Name, ctx.Err(), d.LogTail(30))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// LogTail returns the last n lines of the daemon's log.
func (d *Dockerd) LogTail(n int) string {
	f, err := os.Open(filepath.Join(d.Dir, "dockerd.log"))
	if err != nil {
		return err.Error()
	}
	defer func() { _ = f.Close() }() // read-only
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}

// Stop terminates dockerd (SIGTERM, then SIGKILL after 30s, together with
// the containerd it started), unmounts what it left under Dir and removes
// Dir. The namespace is the caller's to delete.
func (d *Dockerd) Stop() error {
	var errs []error
	if err := procstop.Stop(d.cmd.Process, d.done, syscall.SIGTERM, 30*time.Second); err != nil {
		errs = append(errs, fmt.Errorf("dockerd in %s: %w", d.NS.Name, err))
		if errors.Is(err, procstop.ErrKilled) {
			errs = append(errs, d.killContainerd())
		}
	}
	errs = append(errs, unmountUnder(d.Dir))
	if err := os.RemoveAll(d.Dir); err != nil {
		errs = append(errs, fmt.Errorf("remove %s: %w", d.Dir, err))
	}
	return errors.Join(errs...)
}

// killContainerd kills the containerd this dockerd started, found by the
// pidfile under its exec-root, after a SIGKILLed dockerd could not stop it.
func (d *Dockerd) killContainerd() error {
	b, err := os.ReadFile(filepath.Join(d.Dir, "exec", "containerd", "containerd.pid"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("containerd pid: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		return fmt.Errorf("containerd pid %q is not a pid", b)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kill containerd %d: %w", pid, err)
	}
	return nil
}

// unmountUnder lazily unmounts every mount point below dir, deepest first
// (a killed dockerd can leave its data-root mounts behind).
func unmountUnder(dir string) error {
	b, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return fmt.Errorf("read mounts: %w", err)
	}
	var points []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 1 && (f[1] == dir || strings.HasPrefix(f[1], dir+"/")) {
			points = append(points, f[1])
		}
	}
	var errs []error
	for i := len(points) - 1; i >= 0; i-- {
		if err := syscall.Unmount(points[i], syscall.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) {
			errs = append(errs, fmt.Errorf("unmount %s: %w", points[i], err))
		}
	}
	return errors.Join(errs...)
}

// NewDockerd starts a dockerd in ns for the test and stops it when the test
// ends (before ns is deleted, since cleanups run last-in first-out).
func NewDockerd(t testing.TB, ns *NS, cfg DockerdConfig) *Dockerd {
	t.Helper()
	RequireRoot(t)
	if _, err := exec.LookPath("dockerd"); err != nil {
		t.Fatalf("dockerd not installed (Debian package docker.io): %v", err)
	}
	ctx, cancel := deadlineContext(t)
	defer cancel()
	d, err := StartDockerd(ctx, ns, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Stop(); err != nil {
			t.Errorf("stop dockerd: %v", err)
		}
	})
	return d
}
