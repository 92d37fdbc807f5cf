// Package etcdtest runs a real etcd server (the Debian etcd-server binary)
// on loopback for tests: free ports, a temporary data directory, a unique
// member name, and cleanup through t.Cleanup even when the test fails.
package etcdtest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/internal/procstop"
	"github.com/vpcroute/vpcroute/internal/testsupport"
)

// defaultBinary is where Debian's etcd-server package installs etcd.
const defaultBinary = "/usr/bin/etcd"

// healthTimeout bounds the wait for a started etcd to answer /health.
const healthTimeout = 20 * time.Second

// Server is one etcd member listening on loopback.
type Server struct {
	t       testing.TB
	bin     string
	name    string
	dir     string
	dataDir string
	logPath string

	clientURL string
	peerURL   string
	tls       *TLSFiles // nil: plain HTTP

	authTokenTTL time.Duration

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// Config selects optional server behaviour for StartConfig.
type Config struct {
	// TLS serves clients over HTTPS and requires client certificates.
	TLS bool
	// AuthTokenTTL is --auth-token-ttl (how long an unused simple auth
	// token lives); zero keeps etcd's default of five minutes.
	AuthTokenTTL time.Duration
}

// Start runs an etcd member on loopback with plain HTTP and waits until it
// is healthy. The process is killed and its files removed when the test
// ends.
func Start(t testing.TB) *Server {
	t.Helper()
	return StartConfig(t, Config{})
}

// StartConfig runs an etcd member configured by cfg and waits until it is
// healthy.
func StartConfig(t testing.TB, cfg Config) *Server {
	t.Helper()
	testsupport.SkipIfShort(t, "runs an etcd server")
	var files *TLSFiles
	if cfg.TLS {
		var err error
		if files, err = WritePKI(t.TempDir()); err != nil {
			t.Fatalf("generate test PKI: %v", err)
		}
	}
	s := newServer(t, files)
	s.authTokenTTL = cfg.AuthTokenTTL
	// freePort's port may be taken by another process before etcd binds it
	// (many test binaries start servers at once): then try fresh ports.
	for attempt := 1; ; attempt++ {
		err := s.startOnce()
		if err == nil {
			return s
		}
		if attempt == 3 || !strings.Contains(s.logTail(4000), "address already in use") {
			t.Fatalf("etcd %s at %s: %v\nlog tail:\n%s", s.name, s.clientURL, err, s.logTail(4000))
		}
		s.clientURL = fmt.Sprintf("%s://127.0.0.1:%d", strings.SplitN(s.clientURL, ":", 2)[0], freePort(t))
		s.peerURL = fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
		if err := os.RemoveAll(s.dataDir); err != nil {
			t.Fatalf("etcd %s: clear data dir for a new attempt: %v", s.name, err)
		}
	}
}

// newServer prepares a member: binary, ports, directories, cleanup.
func newServer(t testing.TB, files *TLSFiles) *Server {
	t.Helper()
	bin, err := exec.LookPath("etcd")
	if err != nil {
		bin = defaultBinary
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("etcd server binary not found (PATH or %s): %v; run `make deps` (installs the Debian etcd-server package)", defaultBinary, err)
	}
	dir := t.TempDir()
	s := &Server{
		t:       t,
		bin:     bin,
		name:    "etcdtest-" + randomSuffix(t),
		dir:     dir,
		dataDir: filepath.Join(dir, "data"),
		logPath: filepath.Join(dir, "etcd.log"),
		tls:     files,
	}
	scheme := "http"
	if files != nil {
		scheme = "https"
	}
	s.clientURL = fmt.Sprintf("%s://127.0.0.1:%d", scheme, freePort(t))
	s.peerURL = fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("etcd %s log (tail):\n%s", s.name, s.logTail(4000))
		}
	})
	return s
}

// Endpoints returns the client URLs to give to an etcd client.
func (s *Server) Endpoints() []string { return []string{s.clientURL} }

// Name returns the member name, unique per server.
func (s *Server) Name() string { return s.name }

// Stop kills the process (SIGKILL, as a crash would) and waits for it to
// exit. The data directory is kept so Restart resumes the same store.
// Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	if err := procstop.Stop(cmd.Process, exited, os.Kill, 0); err != nil {
		s.t.Errorf("kill etcd %s (pid %d): %v", s.name, cmd.Process.Pid, err)
	}
}

// Restart starts the server again on the same ports and data directory,
// stopping it first if it runs, and waits until it is healthy.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.start()
}

// start launches the process and waits for /health, failing the test if
// it does not become healthy.
func (s *Server) start() {
	s.t.Helper()
	if err := s.startOnce(); err != nil {
		s.t.Fatalf("etcd %s at %s: %v\nlog tail:\n%s", s.name, s.clientURL, err, s.logTail(4000))
	}
}

// startOnce launches the process and waits for /health.
func (s *Server) startOnce() error {
	s.t.Helper()
	logFile, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open etcd log: %w", err)
	}
	defer logFile.Close()

	args := []string{
		"--name", s.name,
		"--data-dir", s.dataDir,
		"--listen-client-urls", s.clientURL,
		"--advertise-client-urls", s.clientURL,
		"--listen-peer-urls", s.peerURL,
		"--initial-advertise-peer-urls", s.peerURL,
		"--initial-cluster", s.name + "=" + s.peerURL,
		"--initial-cluster-token", s.name,
		"--initial-cluster-state", "new",
		// Short raft timers: a single member elects itself fast after a
		// restart, and the minimum lease TTL drops to one second.
		"--heartbeat-interval", "10",
		"--election-timeout", "100",
		"--logger", "zap",
		"--log-outputs", "stderr",
	}
	if s.authTokenTTL > 0 {
		args = append(args, "--auth-token-ttl", fmt.Sprint(int(s.authTokenTTL.Seconds())))
	}
	if s.tls != nil {
		args = append(args,
			"--cert-file", s.tls.ServerCertFile,
			"--key-file", s.tls.ServerKeyFile,
			"--trusted-ca-file", s.tls.CAFile,
			"--client-cert-auth",
		)
	}
	cmd := exec.Command(s.bin, args...)
	// A minimal environment: ETCD_* variables of the caller must not
	// reconfigure the test server.
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + s.dir}
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	// The server dies with the test binary even if cleanup never runs.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start etcd %s: %w", s.bin, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait() // exit status is expected to be "killed"
		close(exited)
	}()
	s.mu.Lock()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()

	if err := s.waitHealthy(exited); err != nil {
		s.Stop()
		return err
	}
	return nil
}

// waitHealthy polls /health until the member reports healthy, the process
// exits, or healthTimeout passes.
func (s *Server) waitHealthy(exited <-chan struct{}) error {
	client := &http.Client{Timeout: time.Second}
	if s.tls != nil {
		cfg, err := s.tls.ClientConfig()
		if err != nil {
			return err
		}
		client.Transport = &http.Transport{TLSClientConfig: cfg}
	}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(healthTimeout)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("process exited before becoming healthy")
		default:
		}
		resp, err := client.Get(s.clientURL + "/health")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && bytes.Contains(body, []byte(`"health":"true"`)) {
				return nil
			}
			err = fmt.Errorf("/health: %s %s", resp.Status, bytes.TrimSpace(body))
		}
		last = err
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("not healthy after %s: %v", healthTimeout, last)
}

// logTail returns the last n bytes of the server's log.
func (s *Server) logTail(n int) string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return fmt.Sprintf("(read log: %v)", err)
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// freePort asks the kernel for an unused loopback TCP port.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// randomSuffix makes member names unique across parallel tests and runs.
func randomSuffix(t testing.TB) string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("random: %v", err)
	}
	return fmt.Sprintf("%d-%s", os.Getpid(), hex.EncodeToString(b))
}
