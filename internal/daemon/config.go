// Package daemon is `vpcroute daemon`: the agent that keeps this host
// configured and its record published, the connection to the cloud API and
// etcd (retried in the background, never a reason to exit), the election
// and the reconcile loop while leading, and /status, /healthz, /readyz and
// /metrics. cmd/vpcroute parses the flags into a Config and calls Run.
package daemon

import (
	"context"
	"net/netip"
	"time"

	"go.uber.org/zap"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/hostcfg"
	"github.com/vpcroute/vpcroute/reconciler"
	"github.com/vpcroute/vpcroute/reconciler/registry"
)

// Config is everything the daemon reads, already validated by its caller
// (cmd/vpcroute names each setting by its flag).
type Config struct {
	// Cluster is the ownership mark of every route and rule; ClusterCIDR
	// holds every host's subnets.
	Cluster     string
	ClusterCIDR netip.Prefix
	// VPCCIDRs are the VPC's CIDRs as given (--vpc-cidr). Empty: the cloud
	// says them, and until it does the network saved in CacheDir by an
	// earlier run stands in.
	VPCCIDRs []netip.Prefix
	// Subnets are this host's subnets as given (--subnet). Empty: they are
	// discovered from Docker at DockerHost, from Networks (all when empty).
	Subnets    []netip.Prefix
	DockerHost string
	Networks   []string
	// DockerConfig is Docker's daemon.json (--docker-config): when it sets
	// a bip (vpcroute allocate) that Docker does not run yet, the agent
	// says so on /status and in its log. Empty: not checked.
	DockerConfig string

	// HostConfig turns host configuration (ip_forward, iptables) on; Host
	// is that configuration but for its Subnets and VPCCIDRs, which the
	// agent fills in as it learns them.
	HostConfig bool
	Host       hostcfg.Options
	// CacheDir is where the VPC's CIDRs are saved for the next boot.
	CacheDir string

	// Policy, AllowCarveOut, AllowMassDelete, Resync, Debounce and
	// SilentAfter are the reconcile loop's (reconciler.LoopConfig).
	Policy          reconciler.Policy
	AllowCarveOut   bool
	AllowMassDelete bool
	Resync          time.Duration
	Debounce        time.Duration
	SilentAfter     time.Duration
	// HostCheck is how often host config is re-applied without a Docker
	// event, Heartbeat how often this host's record is written.
	HostCheck time.Duration
	Heartbeat time.Duration
	// LeaseTTL is the leader lease.
	LeaseTTL time.Duration
	// StuckAfter overrides how long a loop (LoopNames) may go without
	// progress; see ParseStuckAfter.
	StuckAfter map[string]time.Duration
	// Timeout bounds one attempt to reach the cloud API or etcd (at most
	// 30 s either way).
	Timeout time.Duration
	// StatusAddr is where /status and the probes are served, host:port.
	StatusAddr string

	// Registry is etcd; cluster mode when it has endpoints, else self mode
	// (this host's own routes only).
	Registry registry.Options
	// NewProvider builds the cloud provider, telling obs about every API
	// call. A ConfigError from it is not retried.
	NewProvider func(ctx context.Context, log *zap.Logger, obs cloud.CallObserver) (cloud.Provider, error)
	// Version is this binary's, as /status, metrics and host records say.
	Version string
	// Log receives the daemon's logs; nil discards them.
	Log *zap.Logger
}

// Seams are the parts an in-process test replaces; the zero value is the
// daemon as it runs in production.
type Seams struct {
	// WrapProvider wraps the cloud provider (a test holding a call).
	WrapProvider func(cloud.Provider) cloud.Provider
}

// ConfigError is a configuration that cannot work (bad input: nothing was
// changed, and retrying does not help), as opposed to a dependency that
// does not answer yet.
type ConfigError struct{ Err error }

// Error is the wrapped error's message.
func (e ConfigError) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error.
func (e ConfigError) Unwrap() error { return e.Err }

// clusterMode reports whether the daemon uses etcd.
func (c Config) clusterMode() bool { return len(c.Registry.Endpoints) > 0 }
