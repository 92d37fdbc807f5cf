package lab

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/vpcroute/vpcroute/internal/procstop"
)

// etcdBinary is where Debian's etcd-server package installs etcd; PATH
// wins when it has one.
const etcdBinary = "/usr/bin/etcd"

// Ports of the lab's etcd. Fixed numbers are safe: they are bound inside
// the router namespace, which belongs to this run alone.
const (
	etcdClientPort = 2379
	etcdPeerPort   = 2380
)

// etcdProc is the lab's running etcd member.
type etcdProc struct {
	cmd     *exec.Cmd
	exited  chan struct{}
	err     error // Wait's result, valid once exited is closed
	logPath string
}

// EtcdEndpoint is the client URL of the lab's etcd as the hosts reach it
// over the vswitch ("http://192.168.1.253:2379"); empty without etcd.
func (l *Lab) EtcdEndpoint() string {
	if l.etcd == nil {
		return ""
	}
	return fmt.Sprintf("http://%s:%d", RouterIP, etcdClientPort)
}

// findEtcd returns the etcd server binary: PATH first, then Debian's path.
func findEtcd() (string, error) {
	if p, err := exec.LookPath("etcd"); err == nil {
		return p, nil
	}
	if st, err := os.Stat(etcdBinary); err == nil && !st.IsDir() {
		return etcdBinary, nil
	}
	return "", fmt.Errorf("etcd server binary not found in PATH or at %s (Debian package: etcd-server)", etcdBinary)
}

// etcdArgs are the flags of the lab's single member: clients on the
// router's vswitch address (hosts reach it like the simulator), the peer
// port on the router namespace's loopback (there is no other member), its
// data below the run directory, short raft timers so that a single member
// elects itself at once, and its log on stderr.
func etcdArgs(name, dataDir string) []string {
	client := fmt.Sprintf("http://%s:%d", RouterIP, etcdClientPort)
	peer := fmt.Sprintf("http://127.0.0.1:%d", etcdPeerPort)
	return []string{
		"--name", name,
		"--data-dir", dataDir,
		"--listen-client-urls", client,
		"--advertise-client-urls", client,
		"--listen-peer-urls", peer,
		"--initial-advertise-peer-urls", peer,
		"--initial-cluster", name + "=" + peer,
		"--initial-cluster-token", name,
		"--initial-cluster-state", "new",
		"--heartbeat-interval", "50",
		"--election-timeout", "500",
		"--logger", "zap",
		"--log-outputs", "stderr",
	}
}

// etcdEnv is the caller's environment without ETCD_* variables: etcd reads
// every flag from them too, and a stray one must not change the lab.
func etcdEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ETCD_") {
			env = append(env, kv)
		}
	}
	return env
}

// startEtcd runs etcd inside the router namespace and waits until it
// reports healthy on the vswitch address. It runs in the router namespace,
// so the sweep (and the reaper) kill it with everything else of the run.
func (l *Lab) startEtcd(ctx context.Context) error {
	bin, err := findEtcd()
	if err != nil {
		return err
	}
	dir := filepath.Join(l.Dir, "etcd")
	if err := os.Mkdir(dir, 0o700); err != nil {
		return fmt.Errorf("etcd dir: %w", err)
	}
	return l.launchEtcd(ctx, bin, dir)
}

// launchEtcd runs the member on the data below dir (new or kept from an
// earlier run of the lab's etcd) and waits until it is healthy.
func (l *Lab) launchEtcd(ctx context.Context, bin, dir string) error {
	e := &etcdProc{exited: make(chan struct{}), logPath: filepath.Join(dir, "etcd.log")}
	logf, err := os.OpenFile(e.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("etcd log: %w", err)
	}
	defer logf.Close() // the child keeps its own descriptor
	args := append([]string{"--net=" + nsPath(l.Router), "--", bin}, etcdArgs(l.ID, filepath.Join(dir, "data"))...)
	cmd := exec.Command("nsenter", args...)
	cmd.Env = etcdEnv()
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // see startDockerd
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start etcd: %w", err)
	}
	e.cmd = cmd
	l.etcd = e
	go func() { e.err = cmd.Wait(); close(e.exited) }()
	return l.waitEtcd(ctx)
}

// waitEtcd polls etcd's /health from inside the router namespace (the
// only place its address is reachable from) with the machine's busybox
// wget, until it says "true", etcd exits or the step timeout passes.
func (l *Lab) waitEtcd(ctx context.Context) error {
	e := l.etcd
	ctx, cancel := context.WithTimeout(ctx, l.cfg.StepTimeout)
	defer cancel()
	url := l.EtcdEndpoint() + "/health"
	last := ""
	for {
		out, err := run(ctx, cmdSpec{name: "nsenter", timeout: 3 * time.Second, args: []string{
			"--net=" + nsPath(l.Router), "--", busyboxPath, "timeout", "2", busyboxPath, "wget", "-q", "-O", "-", url}})
		if err == nil && strings.Contains(out, `"health":"true"`) {
			l.log.Info("etcd up")
			return nil
		}
		if err != nil {
			last = err.Error()
		} else {
			last = strings.TrimSpace(out)
		}
		select {
		case <-e.exited:
			return fmt.Errorf("etcd exited (%v): %s", e.err, tail(e.logPath, 10))
		case <-ctx.Done():
			return fmt.Errorf("etcd not healthy at %s after %s (last answer: %s): %s", url, l.cfg.StepTimeout, last, tail(e.logPath, 10))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stopEtcd ends etcd: SIGTERM, SIGKILL after grace. Its data goes with the
// run directory.
func (l *Lab) stopEtcd(grace time.Duration) error {
	e := l.etcd
	if e == nil || e.cmd == nil {
		return nil
	}
	if err := procstop.Stop(e.cmd.Process, e.exited, syscall.SIGTERM, grace); err != nil {
		return fmt.Errorf("etcd: %w", err)
	}
	return nil
}

// StopEtcd stops the lab's etcd (SIGTERM, SIGKILL after grace), keeping its
// data for RestartEtcd: the registry is unreachable from every host.
func (l *Lab) StopEtcd(grace time.Duration) error {
	l.log.Info("stopping etcd")
	return l.stopEtcd(grace)
}

// RestartEtcd starts the lab's etcd again on its kept data after StopEtcd
// and waits until it is healthy; it does nothing while etcd runs.
func (l *Lab) RestartEtcd(ctx context.Context) error {
	if l.etcd == nil {
		return fmt.Errorf("restart etcd: the lab has no etcd (Config.Etcd is false)")
	}
	select {
	case <-l.etcd.exited:
	default:
		return nil
	}
	bin, err := findEtcd()
	if err != nil {
		return err
	}
	l.log.Info("restarting etcd")
	return l.launchEtcd(ctx, bin, filepath.Join(l.Dir, "etcd"))
}
