package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.uber.org/zap"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/reconciler"
	"github.com/vpcroute/vpcroute/reconciler/registry"
	"github.com/vpcroute/vpcroute/reconciler/status"
)

func newDaemonCommand(o *options, shared *pflag.FlagSet) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "daemon",
		Short: "Keep this host configured and, when elected leader, every host's routes true",
		Long: `daemon runs on every host. Its agent keeps ip_forward and vpcroute's iptables
rules in place (re-applied within a second of a Docker change, checked every
--host-check-interval) and publishes this host's subnets to the registry
(etcd, --etcd-endpoints). One daemon is elected leader and keeps every managed
route table equal to the registered claims: on every registry change (after
--debounce) and every --resync-interval.

A route is deleted only when its host removed the subnet, deregistered
(vpcroute sync --remove), or the cloud confirms its instance is gone; never
because an agent is silent. Without --etcd-endpoints each daemon keeps only
its own routes.

SIGTERM resigns leadership at once and keeps every route.`,
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
	fs.BoolVar(&o.AllowMassDelete, "allow-mass-delete", false, "let one reconcile delete more than max(3, 25%) of the cluster's routes")
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

// daemon holds what the daemon's parts share.
type daemon struct {
	o        *options
	p        parsed
	log      *zap.Logger
	provider cloud.Provider
	self     cloud.Instance
	reg      *registry.Registry // nil in self mode
	agent    *agent
	metrics  *status.Metrics
	errs     *status.Errors
	beat     *status.Heartbeat

	mu        sync.Mutex
	hosts     []reconciler.Host
	haveHosts bool                 // the registry has been read at least once
	feed      *reconciler.HostFeed // the running loop's, nil when not leading
	term      context.Context      // the leadership term's, nil when not leading
	isLeader  bool
	report    *reconciler.Report
	lastOK    time.Time
	leader    registry.LeaderInfo
	leaderAt  time.Time
	leaderErr error
}

func runDaemon(ctx context.Context, o *options) error {
	p, err := o.validate()
	if err != nil {
		return usageError{err}
	}
	if err := o.validateDaemon(); err != nil {
		return usageError{err}
	}
	log, err := newLogger(o)
	if err != nil {
		return err
	}
	defer func() { _ = log.Sync() }()

	d := &daemon{o: o, p: p, log: log, metrics: status.NewMetrics(version), errs: &status.Errors{},
		beat: status.NewHeartbeat(nil)}
	// Listen before anything else: a taken address is a start-up error.
	ln, err := status.Listen(o.StatusAddr)
	if err != nil {
		return usageError{err}
	}
	defer func() { _ = ln.Close() }() // also closed by the server on shutdown

	startCtx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	d.provider, err = newProviderObserved(startCtx, o, p, log, d.metrics)
	if err != nil {
		return err
	}
	if d.self, err = d.provider.Self(startCtx); err != nil {
		return fmt.Errorf("identify this host: %w", err)
	}
	network, err := d.provider.Network(startCtx)
	if err != nil {
		return fmt.Errorf("read the VPC: %w", err)
	}
	// Checked before the agent touches the host or the registry.
	if err := reconciler.ValidateClusterCIDR(p.clusterCIDR, network.CIDRs); err != nil {
		return usageError{err}
	}
	d.agent = &agent{o: o, p: p, log: log.Named("agent"), self: d.self, vpcCIDRs: network.CIDRs,
		heartbeat: o.Heartbeat, recheck: o.HostCheck, observe: d.metrics.ObserveHostConfigApply}
	if hp, ok := d.provider.(cloud.HostPreparer); ok {
		d.agent.prepare = func(ctx context.Context) error { return hp.PrepareHost(ctx, o.ClusterName) }
	}

	loopCfg := reconciler.LoopConfig{
		Cluster: o.ClusterName, ClusterCIDR: p.clusterCIDR, Provider: d.provider, Policy: p.policy,
		Identity: d.self.ID, AllowMassDelete: o.AllowMassDelete, AllowCarveOut: o.AllowCarveOut, Debounce: o.Debounce, Resync: o.Resync,
		SilentAfter: o.SilentAfter, Log: log.Named("reconciler"), OnReport: d.onReport,
	}
	var wg sync.WaitGroup
	run := func(f func()) { wg.Add(1); go func() { defer wg.Done(); f() }() }
	runCtx, stop := context.WithCancel(ctx)
	defer stop()

	if len(o.EtcdEndpoints) > 0 {
		ropts := o.registryOptions()
		ropts.Logger = log.Named("registry")
		d.reg, err = registry.Open(startCtx, ropts)
		if err != nil {
			return err
		}
		defer func() { _ = d.reg.Close() }() // shutting down; nothing left to tell
		if prev, ok, err := d.reg.Get(startCtx, d.self.ID); err != nil {
			return fmt.Errorf("read this host's record: %w", err)
		} else if ok {
			d.agent.adopt(prev)
		}
		d.metrics.SetRegistryUp(true)
		d.agent.publish = d.publishRegistry
		loopCfg.Forget = d.reg.Remove
		// One loop for every leadership term: a new term keeps the cached
		// network read.
		loop, err := reconciler.NewLoop(loopCfg)
		if err != nil {
			return err
		}
		run(func() { d.watchHosts(runCtx) })
		run(func() { d.lead(runCtx, loop) })
	} else {
		// Self mode: this host is its own registry and keeps only its own
		// routes.
		loopCfg.Scope = []cloud.Target{d.self.Target}
		loop, err := reconciler.NewLoop(loopCfg)
		if err != nil {
			return err
		}
		feed := reconciler.NewHostFeed()
		d.feed, d.isLeader = feed, true
		d.metrics.SetLeader(true)
		d.agent.publish = func(_ context.Context, h reconciler.Host) error {
			d.setHosts([]reconciler.Host{h})
			return nil
		}
		run(func() {
			if err := loop.Run(runCtx, feed.C()); err != nil {
				d.errs.Add("reconciler", err)
			}
		})
	}

	firstDone := make(chan struct{})
	run(func() { d.agent.run(runCtx, firstDone) })
	live := d.beat.Check(3 * max(o.HostCheck, o.Heartbeat))
	serveErr := make(chan error, 1)
	run(func() {
		serveErr <- status.ServeListener(runCtx, ln, status.NewHandler(d.document, live, d.ready, d.metrics), log)
	})
	run(func() { d.beatLoops(runCtx) })

	select {
	case <-firstDone:
	case <-ctx.Done():
	}
	notifyReady(log)
	run(func() { watchdog(runCtx, live, log) })
	log.Info("daemon running", zap.String("instance", d.self.ID), zap.String("mode", d.mode()),
		zap.String("status", o.StatusAddr))

	select {
	case <-ctx.Done():
		log.Info("stopping; routes and host config are kept")
	case err = <-serveErr:
		log.Error("status server stopped", zap.Error(err))
	}
	notifyStopping()
	stop()
	wg.Wait()
	return err
}

// beatLoops marks the agent alive while its state keeps moving.
func (d *daemon) beatLoops(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if s := d.agent.snapshot(); !s.lastApplied.IsZero() && time.Since(s.lastApplied) < 2*d.o.HostCheck+10*time.Second {
				d.beat.Beat("agent")
			}
		}
	}
}

func (d *daemon) mode() string {
	if d.reg == nil {
		return status.ModeSelf
	}
	return status.ModeCluster
}

// publishRegistry writes the host's record to etcd.
func (d *daemon) publishRegistry(ctx context.Context, h reconciler.Host) error {
	err := d.reg.Publish(ctx, h)
	d.metrics.SetRegistryUp(err == nil)
	if err != nil {
		d.errs.Add("registry", err)
	}
	return err
}

// watchHosts follows the registry and feeds the loop when leading. The
// registry's watch survives etcd outages by itself; it ends only when ctx
// does or the registry is closed.
func (d *daemon) watchHosts(ctx context.Context) {
	if err := d.reg.WatchHosts(ctx, d.setHosts); err != nil && ctx.Err() == nil {
		d.errs.Add("registry", err)
		d.log.Error("registry watch ended", zap.Error(err))
	}
}

// setHosts keeps the newest registry snapshot and hands it to the loop
// while leading. Both under one lock, so that a new leadership term never
// starts from an older snapshot than the one last seen.
func (d *daemon) setHosts(hosts []reconciler.Host) {
	d.mu.Lock()
	d.hosts, d.haveHosts = hosts, true
	if d.feed != nil {
		d.feed.Send(hosts) // never blocks
	}
	d.mu.Unlock()
	d.metrics.SetRegisteredHosts(len(hosts))
}

// lead campaigns for leadership and runs the reconcile loop while leading.
// Leadership ends when the lease cannot be kept (etcd unreachable): the
// loop stops writing at once, and the daemon campaigns again.
func (d *daemon) lead(ctx context.Context, loop *reconciler.Loop) {
	me := registry.LeaderInfo{Instance: d.self.ID, StatusAddr: d.o.StatusAddr}
	for ctx.Err() == nil {
		l, err := d.reg.Campaign(ctx, me, d.o.LeaseTTL)
		if err != nil {
			if ctx.Err() == nil {
				d.errs.Add("election", err)
				d.log.Warn("campaign failed; retrying", zap.Error(err))
				select {
				case <-ctx.Done():
				case <-time.After(time.Second):
				}
			}
			continue
		}
		d.log.Info("elected leader")
		lctx, cancel := context.WithCancel(ctx)
		stopAfter := context.AfterFunc(l.Context(), cancel) // leadership lost: stop writing
		feed := reconciler.NewHostFeed()
		d.mu.Lock()
		d.feed, d.isLeader, d.term = feed, true, l.Context()
		if d.haveHosts {
			feed.Send(d.hosts) // an empty registry is a snapshot too
		}
		d.mu.Unlock()
		d.metrics.SetLeader(true)
		if err := loop.Run(lctx, feed.C()); err != nil {
			d.errs.Add("reconciler", err)
		}
		stopAfter()
		cancel()
		d.mu.Lock()
		d.feed, d.isLeader, d.term = nil, false, nil
		d.mu.Unlock()
		d.metrics.SetLeader(false)
		if ctx.Err() != nil {
			// Shutting down: resign so that another daemon takes over now,
			// not after the lease expires.
			rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
			if err := l.Resign(rctx); err != nil {
				d.log.Warn("resign failed; the lease expires on its own", zap.Error(err))
			} else {
				d.log.Info("resigned leadership")
			}
			rcancel()
			return
		}
		d.log.Warn("lost leadership; campaigning again")
	}
}

// onReport publishes a pass's report and feeds metrics.
func (d *daemon) onReport(r reconciler.Report) {
	d.metrics.ObserveReport(r)
	if r.Result == reconciler.ResultError {
		d.errs.Add("reconciler", errors.New(r.Error))
	}
	d.mu.Lock()
	d.report = &r
	if status.Succeeded(r) {
		d.lastOK = r.Started.Add(r.Duration)
	}
	d.mu.Unlock()
	d.mu.Lock()
	term := d.term
	d.mu.Unlock()
	if d.reg != nil && term != nil {
		// Bound to the term: a deposed leader must not overwrite its
		// successor's report.
		ctx, cancel := context.WithTimeout(term, 3*time.Second)
		defer cancel()
		if err := d.reg.PutReport(ctx, r); err != nil && term.Err() == nil {
			d.errs.Add("registry", fmt.Errorf("publish reconcile report: %w", err))
		}
	}
}

// ready: the host is configured and its record is published.
func (d *daemon) ready() error {
	s := d.agent.snapshot()
	switch {
	case s.lastApplied.IsZero():
		return errors.New("host config not applied yet")
	case s.hostConfig == status.HostConfigError:
		return fmt.Errorf("host config failed: %s", s.hostErr)
	case !s.ready:
		if s.publishErr != "" {
			return fmt.Errorf("host record not published: %s", s.publishErr)
		}
		return errors.New("host record not published yet")
	}
	return nil
}
