package lab

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"go.uber.org/zap"
)

// Config describes one lab. The zero value plus Defaults gives the two-host
// lab of the source document, without the simulator.
type Config struct {
	// Provider is the cloud the simulator plays: ProviderAliyun (default)
	// or ProviderAWS (EC2 routes to each host's primary ENI, IMDSv2, the
	// instance role as the daemons' credentials).
	Provider string
	// Hosts is the number of cloud hosts (default 2, at most MaxHosts).
	Hosts int
	// BinDir holds the vpcroute and vpcroute-sim binaries. Empty means no
	// simulator: the lab then only offers the manual steps (ApplyManual).
	BinDir string
	// WorkDir is the parent of the run's temporary directory (default
	// /tmp). It must be short: dockerd and containerd sockets live below it
	// and unix socket paths are limited to 107 bytes.
	WorkDir string
	// Prefix starts every name of the run (default "vrl"); the PID and a
	// random suffix follow.
	Prefix string
	// PendingDelay is how long the simulator keeps new entries Pending
	// (default 500ms, the simulator's own default).
	PendingDelay time.Duration
	// ExtraRoutes are unowned entries put into the route table through the
	// simulator's admin API as soon as it is up, before any vpcroute run.
	ExtraRoutes []SimRoute
	// Etcd runs a real etcd (Debian's etcd-server) in the router namespace
	// on the vswitch, at EtcdEndpoint, for `vpcroute daemon`'s registry and
	// leader election. It needs BinDir (daemons need the simulator).
	Etcd bool
	// Allocator is the --allocator every host's `vpcroute allocate` gets at
	// boot: "derived" or "leased"; empty leaves vpcroute's default (leased
	// with Etcd, derived without).
	Allocator string
	// Daemon holds the timings StartDaemon gives `vpcroute daemon`; zero
	// fields take the lab's short demo defaults (see DaemonConfig).
	Daemon DaemonConfig
	// StepTimeout bounds every single command and wait (default 60s).
	StepTimeout time.Duration
	// Logger receives debug logs of every step (default: none).
	Logger *zap.Logger
	// NoSignalHandler leaves SIGINT/SIGTERM/SIGHUP alone. By default the lab
	// tears itself down and exits with status 130 on those signals.
	NoSignalHandler bool
}

var prefixRE = regexp.MustCompile(`^[a-z][a-z0-9]{0,5}$`)

// maxWorkDir keeps the deepest socket path (containerd's, below a host's
// exec-root) under the 107-byte limit of unix socket paths.
const maxWorkDir = 40

// withDefaults returns c with empty fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.Provider == "" {
		c.Provider = clouds[0].Name()
	}
	if c.Hosts == 0 {
		c.Hosts = 2
	}
	if c.WorkDir == "" {
		c.WorkDir = "/tmp"
	}
	if c.Prefix == "" {
		c.Prefix = "vrl"
	}
	if c.PendingDelay == 0 {
		c.PendingDelay = 500 * time.Millisecond
	}
	if c.StepTimeout == 0 {
		c.StepTimeout = 60 * time.Second
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	c.Daemon = c.Daemon.withDefaults()
	return c
}

// Validate checks the configuration after defaults; each error names the
// field, the value and what is expected.
func (c Config) Validate() error {
	if _, err := CloudFor(c.Provider); err != nil {
		return err
	}
	if c.Hosts < 2 || c.Hosts > MaxHosts {
		return fmt.Errorf("hosts: %d (want 2 to %d)", c.Hosts, MaxHosts)
	}
	if !prefixRE.MatchString(c.Prefix) {
		return fmt.Errorf("prefix: %q (want a lowercase letter then up to 5 lowercase letters or digits)", c.Prefix)
	}
	if !filepath.IsAbs(c.WorkDir) || len(c.WorkDir) > maxWorkDir {
		return fmt.Errorf("work dir: %q (want an absolute path of at most %d bytes, socket paths live below it)", c.WorkDir, maxWorkDir)
	}
	if st, err := os.Stat(c.WorkDir); err != nil || !st.IsDir() {
		return fmt.Errorf("work dir: %q (want an existing directory)", c.WorkDir)
	}
	if c.BinDir != "" {
		for _, b := range []string{"vpcroute", "vpcroute-sim"} {
			p := filepath.Join(c.BinDir, b)
			if st, err := os.Stat(p); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
				return fmt.Errorf("bin dir: %q has no executable %s (want the directory go build -o wrote both binaries to)", c.BinDir, b)
			}
		}
	}
	if c.PendingDelay < 0 {
		return fmt.Errorf("pending delay: %s (want 0 or more)", c.PendingDelay)
	}
	if c.StepTimeout < time.Second {
		return fmt.Errorf("step timeout: %s (want at least 1s)", c.StepTimeout)
	}
	if c.Etcd && c.BinDir == "" {
		return fmt.Errorf("etcd: true with an empty bin dir (want a bin dir: etcd serves the daemons, which need vpcroute and the simulator)")
	}
	switch c.Allocator {
	case "", "derived":
	case "leased":
		if !c.Etcd {
			return fmt.Errorf("allocator: %q without etcd (want derived, or etcd: true for leases)", c.Allocator)
		}
	default:
		return fmt.Errorf("allocator: %q (want derived, leased or empty)", c.Allocator)
	}
	if err := c.Daemon.validate(); err != nil {
		return err
	}
	for i, r := range c.ExtraRoutes {
		if r.Destination == "" || r.NextHopType == "" || r.NextHopID == "" {
			return fmt.Errorf("extra routes[%d]: %+v (want destination, nextHopType and nextHopId)", i, r)
		}
	}
	return nil
}

// newRunID returns prefix + PID + 4 random hex digits: unique per run, and
// the PID tells which process a leftover belonged to.
func newRunID(prefix string) (string, error) {
	var b [2]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random run id: %w", err)
	}
	return fmt.Sprintf("%s%d%s", prefix, os.Getpid(), hex.EncodeToString(b[:])), nil
}
