package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/vpcroute/vpcroute/internal/procstop"
	"github.com/vpcroute/vpcroute/reconciler/status"
)

// DaemonStatusAddr is where every lab daemon serves /status: the loopback
// of its own host's namespace, so the same address on every host never
// clashes and nothing outside the namespace can reach it.
const DaemonStatusAddr = "127.0.0.1:9712"

// DaemonConfig holds the timings of `vpcroute daemon` in the lab. They are
// far shorter than production defaults so that a demo shows a join, a
// removal and a failover in seconds.
type DaemonConfig struct {
	// Debounce gathers registry changes into one reconcile (default 300ms).
	Debounce time.Duration
	// HeartbeatInterval is how often a host rewrites its record (default 2s).
	HeartbeatInterval time.Duration
	// SilentAfter is how long a host may stay silent before the leader asks
	// the cloud whether its instance still exists (default 6s).
	SilentAfter time.Duration
	// ResyncInterval is the leader's full reconcile period (default 10s).
	ResyncInterval time.Duration
	// LeaseTTL is the leader lease (default 4s).
	LeaseTTL time.Duration
	// HostCheckInterval is how often the agent re-checks ip_forward and
	// iptables without a Docker event (default 5s).
	HostCheckInterval time.Duration
}

// withDefaults fills zero fields with the lab's demo timings.
func (c DaemonConfig) withDefaults() DaemonConfig {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.Debounce, 300*time.Millisecond)
	def(&c.HeartbeatInterval, 2*time.Second)
	def(&c.SilentAfter, 6*time.Second)
	def(&c.ResyncInterval, 10*time.Second)
	def(&c.LeaseTTL, 4*time.Second)
	def(&c.HostCheckInterval, 5*time.Second)
	return c
}

// validate checks the timings after defaults, as the daemon itself would,
// so that a bad value fails before any namespace exists.
func (c DaemonConfig) validate() error {
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"debounce", c.Debounce}, {"heartbeat interval", c.HeartbeatInterval}, {"silent after", c.SilentAfter},
		{"resync interval", c.ResyncInterval}, {"lease ttl", c.LeaseTTL}, {"host check interval", c.HostCheckInterval}} {
		if f.d < 0 {
			return fmt.Errorf("daemon %s: %s (want a positive duration, or 0 for the default)", f.name, f.d)
		}
	}
	if c.LeaseTTL < 2*time.Second {
		return fmt.Errorf("daemon lease ttl: %s (want at least 2s)", c.LeaseTTL)
	}
	if c.SilentAfter <= c.HeartbeatInterval {
		return fmt.Errorf("daemon silent after: %s (want more than the heartbeat interval %s)", c.SilentAfter, c.HeartbeatInterval)
	}
	return nil
}

// args are the daemon's timing flags.
func (c DaemonConfig) args() []string {
	return []string{
		"--debounce", c.Debounce.String(),
		"--heartbeat-interval", c.HeartbeatInterval.String(),
		"--silent-after", c.SilentAfter.String(),
		"--resync-interval", c.ResyncInterval.String(),
		"--lease-ttl", c.LeaseTTL.String(),
		"--host-check-interval", c.HostCheckInterval.String(),
	}
}

// BinDir is the absolute directory of the vpcroute and vpcroute-sim
// binaries the lab runs (empty without a simulator).
func (l *Lab) BinDir() string { return l.cfg.BinDir }

// DaemonConfig returns the daemon timings the lab runs with (defaults
// filled in).
func (l *Lab) DaemonConfig() DaemonConfig { return l.cfg.Daemon }

// daemonProc is one host's running `vpcroute daemon`.
type daemonProc struct {
	cmd    *exec.Cmd
	exited chan struct{}
	err    error // Wait's result, valid once exited is closed
}

// DaemonLog is the file host h's daemon logs to.
func (h *Host) DaemonLog() string { return filepath.Join(h.Dir, "daemon.log") }

// runningDaemon returns h's daemon while it runs, nil otherwise.
func (h *Host) runningDaemon() *daemonProc {
	h.mu.Lock()
	d := h.daemon
	h.mu.Unlock()
	if d == nil {
		return nil
	}
	select {
	case <-d.exited:
		return nil
	default:
		return d
	}
}

// DaemonRunning reports whether host h's daemon process is alive.
func (l *Lab) DaemonRunning(h *Host) bool { return h.runningDaemon() != nil }

// DaemonArgs are the arguments of `vpcroute daemon` on host h (after the
// binary): the lab flags, the registry on the lab's etcd (self mode
// without etcd), the status address and the timings.
func (l *Lab) DaemonArgs(h *Host) []string {
	args := append([]string{"daemon"}, l.VpcrouteFlags(h)...)
	if ep := l.EtcdEndpoint(); ep != "" {
		args = append(args, "--etcd-endpoints", ep)
	}
	args = append(args, "--status-addr", DaemonStatusAddr, "--cache-dir", filepath.Join(h.Dir, "vpcroute-cache"))
	return append(args, l.cfg.Daemon.args()...)
}

// StartDaemon starts `vpcroute daemon` inside host h's network namespace,
// logging to h.DaemonLog(), and waits until it is ready: its /status
// answers, the host's config is applied and (with etcd) the host's record
// is back from the registry. A daemon that exits or is not ready within the
// step timeout is an error naming the end of its log.
func (l *Lab) StartDaemon(ctx context.Context, h *Host) error {
	return l.StartDaemonUntil(ctx, h, func(doc status.Document) string { return DaemonReady(doc, l.etcd != nil) })
}

// StartDaemonUntil is StartDaemon with its own notion of ready: ready says
// why a status document is not ready yet ("" when it is). A host rebooted
// while etcd is down waits only for its host config (HostConfigured).
func (l *Lab) StartDaemonUntil(ctx context.Context, h *Host, ready func(status.Document) string) error {
	if l.sim == nil {
		return fmt.Errorf("start daemon on %s: the lab has no simulator (Config.BinDir is empty)", h.Name)
	}
	if h.runningDaemon() != nil {
		return fmt.Errorf("start daemon on %s: a daemon already runs there", h.Name)
	}
	logf, err := os.OpenFile(h.DaemonLog(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("daemon log for %s: %w", h.Name, err)
	}
	fmt.Fprintf(logf, "--- lab: daemon started %s\n", time.Now().Format(time.RFC3339Nano))
	bin := filepath.Join(l.cfg.BinDir, "vpcroute")
	cmd := exec.Command("nsenter", append([]string{"--net=" + nsPath(h.Netns), "--", bin}, l.DaemonArgs(h)...)...)
	cmd.Env = l.vpcrouteEnv()
	// The output reaches the log through the race watch: a race report is
	// counted when written, even if the daemon is later killed.
	out := l.races.watch("daemon on "+h.Name, logf)
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // see startDockerd
	cmd.WaitDelay = 5 * time.Second                       // a child of the daemon may hold the output pipe
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start daemon on %s: %w", h.Name, err)
	}
	d := &daemonProc{cmd: cmd, exited: make(chan struct{})}
	go func() {
		d.err = cmd.Wait() // returns once the output is copied
		logf.Close()
		close(d.exited)
	}()
	h.mu.Lock()
	h.daemon = d
	h.mu.Unlock()
	l.log.Info("daemon started", zapHost(h))
	return l.waitDaemonReady(ctx, h, d, ready)
}

// waitDaemonReady polls h's status until ready accepts it, the daemon
// exits or the step timeout passes.
func (l *Lab) waitDaemonReady(ctx context.Context, h *Host, d *daemonProc, ready func(status.Document) string) error {
	ctx, cancel := context.WithTimeout(ctx, l.cfg.StepTimeout)
	defer cancel()
	why := "no status yet"
	for {
		doc, err := l.Status(ctx, h)
		if err == nil {
			if why = ready(doc); why == "" {
				return nil
			}
		} else {
			why = err.Error()
		}
		select {
		case <-d.exited:
			return fmt.Errorf("daemon on %s exited (%v): %s", h.Name, d.err, tail(h.DaemonLog(), 10))
		case <-ctx.Done():
			return fmt.Errorf("daemon on %s not ready after %s: %s; its log: %s", h.Name, l.cfg.StepTimeout, why, tail(h.DaemonLog(), 10))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// StopDaemon sends sig to host h's daemon and waits for it to end. SIGTERM
// must end it cleanly (status 0) within 10 s; SIGKILL is how a crash looks.
// Stopping a host without a running daemon does nothing.
func (l *Lab) StopDaemon(h *Host, sig syscall.Signal) error {
	d := h.runningDaemon()
	if d == nil {
		return nil
	}
	l.log.Info("stopping daemon", zapHost(h), zap.Stringer("signal", sig))
	switch err := procstop.Stop(d.cmd.Process, d.exited, sig, 10*time.Second); {
	case errors.Is(err, procstop.ErrKilled):
		return fmt.Errorf("daemon on %s: %w: %s", h.Name, err, tail(h.DaemonLog(), 10))
	case err != nil:
		return fmt.Errorf("daemon on %s: %w", h.Name, err)
	}
	if sig == syscall.SIGKILL {
		return nil
	}
	if d.err != nil {
		return fmt.Errorf("daemon on %s after %s: %v: %s", h.Name, sig, d.err, tail(h.DaemonLog(), 10))
	}
	return nil
}

// stopAllDaemons stops every running daemon with SIGTERM, for teardown.
func (l *Lab) stopAllDaemons() error {
	return l.eachHost(func(h *Host) error { return l.StopDaemon(h, syscall.SIGTERM) })
}
