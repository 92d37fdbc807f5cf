package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.uber.org/zap"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/internal/daemon"
	"github.com/vpcroute/vpcroute/reconciler"
	"github.com/vpcroute/vpcroute/reconciler/registry"
	"github.com/vpcroute/vpcroute/reconciler/status"
)

func newDaemonCommand(o *options, shared *pflag.FlagSet) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "daemon",
		Short: "Keep this host configured and, when elected leader, every host's routes true",
		Long: `daemon runs on every host. Its agent configures the host at once from what
it knows (Docker, --vpc-cidr, the VPC saved in --cache-dir) and keeps
ip_forward and vpcroute's iptables rules in place; the cloud API and etcd
(--etcd-endpoints) are reached in the background, never a reason to exit.
One daemon is elected leader and keeps every route table equal to the
admitted claims. A route is deleted only when its host gave the subnet up or
the cloud confirms its instance is gone. SIGTERM resigns and keeps every
route; a stuck loop (--stuck-after) fails /healthz.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDaemon(cmd.Context(), o)
		},
	}
	fs := cmd.Flags()
	fs.DurationVar(&o.Resync, "resync-interval", reconciler.DefaultResync, "full reconcile period (one list call per managed table)")
	fs.DurationVar(&o.Debounce, "debounce", reconciler.DefaultDebounce, "gather registry changes this long into one reconcile")
	fs.DurationVar(&o.HostCheck, "host-check-interval", 30*time.Second, "re-check ip_forward and iptables this often even without a Docker event")
	fs.DurationVar(&o.Heartbeat, "heartbeat-interval", 30*time.Second, "write this host's record (last seen) this often")
	fs.DurationVar(&o.LeaseTTL, "lease-ttl", 10*time.Second, "leader lease; a killed leader is replaced within about this long")
	fs.DurationVar(&o.SilentAfter, "silent-after", reconciler.DefaultSilentAfter, "ask the cloud whether a host silent this long still exists (its routes stay unless it is gone)")
	fs.StringVar(&o.CacheDir, "cache-dir", daemon.DefaultCacheDir, "where the VPC's CIDRs are saved, to configure the host at the next boot before the cloud API answers")
	fs.StringVar(&o.DaemonDockerConfig, "docker-config", "/etc/docker/daemon.json", "Docker's daemon.json: a bip it sets (vpcroute allocate) that Docker does not run yet is reported (empty: not checked)")
	fs.BoolVar(&o.AllowMassDelete, "allow-mass-delete", false, "let one reconcile delete more than max(3, 25%) of the cluster's routes")
	fs.StringArrayVar(&o.StuckAfter, "stuck-after", nil, "a loop without progress this long is stuck (/healthz fails, a stuck reconciler resigns leadership): loop=duration, loop one of "+strings.Join(daemon.LoopNames(), ", ")+", repeatable (default: derived from the intervals)")
	addShared(cmd, shared, flagGroups)
	return cmd
}

// validateDaemon checks the daemon's own settings.
func (o *options) validateDaemon() error {
	for name, d := range map[string]time.Duration{"resync-interval": o.Resync, "debounce": o.Debounce,
		"host-check-interval": o.HostCheck, "heartbeat-interval": o.Heartbeat, "silent-after": o.SilentAfter} {
		if d <= 0 {
			return fmt.Errorf("%s %s is invalid: expected a positive duration such as 30s", name, d)
		}
	}
	if o.LeaseTTL < 2*time.Second {
		return fmt.Errorf("lease-ttl %s is invalid: expected at least 2s", o.LeaseTTL)
	}
	if o.SilentAfter <= o.Heartbeat {
		return fmt.Errorf("silent-after %s is invalid: expected more than heartbeat-interval %s", o.SilentAfter, o.Heartbeat)
	}
	if _, _, err := net.SplitHostPort(o.StatusAddr); err != nil {
		return fmt.Errorf("status-addr %q is invalid: expected host:port such as %s", o.StatusAddr, status.DefaultAddr)
	}
	return nil
}

// registryOptions are the etcd settings as the registry takes them.
func (o *options) registryOptions() registry.Options {
	return registry.Options{Endpoints: o.EtcdEndpoints, CertFile: o.EtcdCert, KeyFile: o.EtcdKey, CAFile: o.EtcdCA,
		Username: o.EtcdUsername, Password: cmp.Or(o.EtcdPassword, o.etcdPasswordFromFile),
		AllowInsecureCredentials: o.EtcdAllowInsecure, Cluster: o.ClusterName}
}

// runDaemon runs the daemon the options describe.
func runDaemon(ctx context.Context, o *options) error {
	return runDaemonWith(ctx, o, nil, daemon.Seams{})
}

// runDaemonWith is runDaemon logging to log instead of the logger the
// options describe when log is not nil, with seams replaced (in-process
// tests).
func runDaemonWith(ctx context.Context, o *options, log *zap.Logger, seams daemon.Seams) error {
	cfg, err := o.daemonConfig()
	if err != nil {
		return usageError{err}
	}
	if log == nil {
		if log, err = newLogger(o); err != nil {
			return err
		}
	}
	defer func() { _ = log.Sync() }()
	cfg.Log = log
	err = daemon.RunWith(ctx, cfg, seams)
	if bad := (daemon.ConfigError{}); errors.As(err, &bad) {
		return usageError{bad.Err}
	}
	return err
}

// daemonConfig validates the options and returns what the daemon reads.
func (o *options) daemonConfig() (daemon.Config, error) {
	p, err := o.validate()
	if err != nil {
		return daemon.Config{}, err
	}
	if err := o.validateDaemon(); err != nil {
		return daemon.Config{}, err
	}
	stuckAfter, err := daemon.ParseStuckAfter(o.StuckAfter)
	if err != nil {
		return daemon.Config{}, err
	}
	return daemon.Config{
		Cluster: o.ClusterName, ClusterCIDR: p.clusterCIDR, VPCCIDRs: p.vpcCIDRs,
		Subnets: p.subnets, DockerHost: o.DockerHost, Networks: o.Networks, DockerConfig: o.DaemonDockerConfig,
		HostConfig: o.HostConfig, Host: hostOptions(o, p), CacheDir: o.CacheDir,
		Policy: p.policy, AllowCarveOut: o.AllowCarveOut, AllowMassDelete: o.AllowMassDelete,
		Resync: o.Resync, Debounce: o.Debounce, SilentAfter: o.SilentAfter,
		HostCheck: o.HostCheck, Heartbeat: o.Heartbeat, LeaseTTL: o.LeaseTTL,
		StuckAfter: stuckAfter, Timeout: o.Timeout, StatusAddr: o.StatusAddr,
		Registry: o.registryOptions(),
		NewProvider: func(ctx context.Context, log *zap.Logger, obs cloud.CallObserver) (cloud.Provider, error) {
			prov, err := newProviderObserved(ctx, o, p, log, obs)
			if bad := (usageError{}); errors.As(err, &bad) {
				return nil, daemon.ConfigError{Err: bad.err} // a refused setting: not retried
			}
			return prov, err
		},
		Version: version,
	}, nil
}
