package lab

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/vpcroute/vpcroute/internal/procstop"
)

// containerName is the one container each lab dockerd runs.
const containerName = "lab"

// dockerd is one host's Docker daemon process.
type dockerd struct {
	cmd    *exec.Cmd
	exited chan struct{}
	err    error // Wait's result, valid once exited is closed
}

// dockerdArgs are the daemon flags for host h: every path of its own
// (data-root, exec-root with containerd's socket, API socket, pidfile) so
// that several daemons coexist, and its own config file, where `vpcroute
// allocate` wrote the bip (no --bip flag: dockerd refuses a key given both
// ways), so the machine's /etc/docker/daemon.json cannot change the lab.
func dockerdArgs(h *Host) []string {
	return []string{
		"--data-root", filepath.Join(h.Dir, "data"),
		"--exec-root", filepath.Join(h.Dir, "exec"),
		"--pidfile", filepath.Join(h.Dir, "docker.pid"),
		"--config-file", h.DockerConfig(),
		"-H", h.DockerHost,
		"--shutdown-timeout", "2",
	}
}

// dockerdEnv is the caller's environment without DOCKER_* variables, with
// TMPDIR inside the lab: containerd writes stack dumps and other scratch
// files there, and the teardown removes them with the run directory.
func dockerdEnv(tmp string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "DOCKER_") || strings.HasPrefix(kv, "TMPDIR=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "TMPDIR="+tmp)
}

// startDockerd runs dockerd inside h's network namespace. Only the network
// namespace is entered: under `ip netns exec` dockerd fails with "Devices
// cgroup isn't mounted" because /sys is remounted.
func (l *Lab) startDockerd(ctx context.Context, h *Host) error {
	logf, err := os.OpenFile(h.dockerdLog(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("dockerd log for %s: %w", h.Name, err)
	}
	defer logf.Close() // the child keeps its own descriptor
	args := append([]string{"--net=" + nsPath(h.Netns), "--", "dockerd"}, dockerdArgs(h)...)
	tmp := filepath.Join(h.Dir, "tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return fmt.Errorf("dockerd tmp dir for %s: %w", h.Name, err)
	}
	cmd := exec.Command("nsenter", args...)
	cmd.Env = dockerdEnv(tmp)
	cmd.Stdout = logf
	cmd.Stderr = logf
	// Own process group: Ctrl-C on the terminal reaches only the lab's
	// process, which then stops the daemon in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start dockerd for %s: %w", h.Name, err)
	}
	d := &dockerd{cmd: cmd, exited: make(chan struct{})}
	go func() { d.err = cmd.Wait(); close(d.exited) }()
	h.dockerd = d
	l.log.Debug("dockerd started")
	return l.waitDockerd(ctx, h)
}

// waitDockerd polls the daemon's /_ping until it answers, the daemon exits
// or the step timeout passes.
func (l *Lab) waitDockerd(ctx context.Context, h *Host) error {
	sock := strings.TrimPrefix(h.DockerHost, "unix://")
	client := &http.Client{
		Timeout: time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}},
	}
	defer client.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(ctx, l.cfg.StepTimeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://docker/_ping", nil)
		if err != nil {
			return fmt.Errorf("dockerd ping request: %w", err)
		}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-h.dockerd.exited:
			return fmt.Errorf("dockerd for %s exited (%v): %s", h.Name, h.dockerd.err, tail(h.dockerdLog(), 15))
		case <-ctx.Done():
			return fmt.Errorf("dockerd for %s not answering on %s after %s: %s", h.Name, sock, l.cfg.StepTimeout, tail(h.dockerdLog(), 15))
		case <-tick.C:
		}
	}
}

// stopDockerd sends SIGTERM and waits for a clean exit (containers stop in
// milliseconds, see containerCmd); SIGKILL after grace.
func (l *Lab) stopDockerd(h *Host, grace time.Duration) error {
	d := h.dockerd
	if d == nil {
		return nil
	}
	if err := procstop.Stop(d.cmd.Process, d.exited, syscall.SIGTERM, grace); err != nil {
		return fmt.Errorf("dockerd for %s: %w", h.Name, err)
	}
	return nil
}

// docker runs the docker CLI against h's daemon, with a private CLI config
// directory so the user's ~/.docker cannot interfere.
func (l *Lab) docker(ctx context.Context, h *Host, stdin []byte, args ...string) (string, error) {
	full := append([]string{"--config", filepath.Join(h.Dir, "cli"), "-H", h.DockerHost}, args...)
	spec := cmdSpec{name: "docker", args: full, timeout: l.cfg.StepTimeout}
	if stdin != nil {
		spec.stdin = bytes.NewReader(stdin)
	}
	return run(ctx, spec)
}

// startContainer imports the image and runs the host's container. The
// restart policy brings it back after a dockerd restart, as on a real host.
func (l *Lab) startContainer(ctx context.Context, h *Host, image []byte) error {
	if _, err := l.docker(ctx, h, image, "import", "-", ImageName); err != nil {
		return fmt.Errorf("import image into %s: %w", h.Name, err)
	}
	args := append([]string{"run", "-d", "--name", containerName, "--hostname", h.Name + "-c",
		"--restart", "always", "--stop-timeout", "2", ImageName}, containerCmd...)
	if _, err := l.docker(ctx, h, nil, args...); err != nil {
		return fmt.Errorf("run container on %s: %w", h.Name, err)
	}
	return l.waitContainer(ctx, h)
}

// waitContainer waits until h's container runs and records its address.
func (l *Lab) waitContainer(ctx context.Context, h *Host) error {
	ctx, cancel := context.WithTimeout(ctx, l.cfg.StepTimeout)
	defer cancel()
	var last string
	for {
		out, err := l.docker(ctx, h, nil, "inspect", "-f", "{{.State.Running}} {{.NetworkSettings.IPAddress}}", containerName)
		if err == nil {
			last = strings.TrimSpace(out)
			f := strings.Fields(last)
			if len(f) == 2 && f[0] == "true" {
				ip, perr := netip.ParseAddr(f[1])
				if perr == nil && h.Subnet.Contains(ip) {
					h.setContainerIP(ip)
					return nil
				}
			}
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("container on %s not running with an address in %s after %s: last state %q", h.Name, h.Subnet, l.cfg.StepTimeout, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// ContainerExec runs a command in host h's container and returns its stdout.
func (l *Lab) ContainerExec(ctx context.Context, h *Host, args ...string) (string, error) {
	return l.docker(ctx, h, nil, append([]string{"exec", containerName}, args...)...)
}

// RestartDocker stops host h's dockerd (its container stops with it), starts
// it again with the same flags and waits until the container is back. Docker
// rewrites its own iptables rules on start, which is what the test needs.
func (l *Lab) RestartDocker(ctx context.Context, h *Host) error {
	l.log.Info("restarting dockerd", zapHost(h))
	if err := l.stopDockerd(h, 20*time.Second); err != nil {
		return fmt.Errorf("restart dockerd: %w", err)
	}
	if err := l.startDockerd(ctx, h); err != nil {
		return fmt.Errorf("restart dockerd: %w", err)
	}
	if err := l.waitContainer(ctx, h); err != nil {
		return fmt.Errorf("restart dockerd: %w", err)
	}
	return nil
}

// tail returns the last n lines of a file on one line, for errors.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
