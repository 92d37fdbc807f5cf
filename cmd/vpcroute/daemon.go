package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
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
	fs.StringVar(&o.CacheDir, "cache-dir", DefaultCacheDir, "where the VPC's CIDRs are saved, to configure the host at the next boot before the cloud API answers")
	fs.BoolVar(&o.AllowMassDelete, "allow-mass-delete", false, "let one reconcile delete more than max(3, 25%) of the cluster's routes")
	fs.StringArrayVar(&o.StuckAfter, "stuck-after", nil, "a loop without progress this long is stuck (/healthz fails, a stuck reconciler resigns leadership): loop=duration, loop one of "+strings.Join(loopNames, ", ")+", repeatable (default: derived from the intervals)")
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
	o       *options
	p       parsed
	log     *zap.Logger
	agent   *agent
	metrics *status.Metrics
	errs    *status.Errors
	beat    *status.Heartbeat
	deps    *status.Dependencies
	allow   map[string]time.Duration // each loop's allowance without progress

	mu sync.Mutex
	// provider and self are set once the cloud has answered, reg once
	// etcd has (never in self mode); read them under mu.
	provider  cloud.Provider
	self      cloud.Instance
	reg       *registry.Registry
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

// daemonSeams are the parts an in-process test replaces; the zero value is
// the daemon as it runs in production.
type daemonSeams struct {
	// log replaces the logger the options describe.
	log *zap.Logger
	// wrapProvider wraps the cloud provider (a test holding a call).
	wrapProvider func(cloud.Provider) cloud.Provider
}

func runDaemon(ctx context.Context, o *options) error {
	return runDaemonWith(ctx, o, daemonSeams{})
}

func runDaemonWith(ctx context.Context, o *options, seams daemonSeams) error {
	p, err := o.validate()
	if err != nil {
		return usageError{err}
	}
	if err := o.validateDaemon(); err != nil {
		return usageError{err}
	}
	stuckAfter, err := parseStuckAfter(o.StuckAfter)
	if err != nil {
		return usageError{err}
	}
	clusterMode := len(o.EtcdEndpoints) > 0
	if clusterMode {
		if err := o.registryOptions().Validate(); err != nil {
			return usageError{err}
		}
	}
	log := seams.log
	if log == nil {
		if log, err = newLogger(o); err != nil {
			return err
		}
	}
	defer func() { _ = log.Sync() }()

	d := &daemon{o: o, p: p, log: log, metrics: status.NewMetrics(version), errs: &status.Errors{},
		beat: status.NewHeartbeat(nil), deps: status.NewDependencies(nil, daemonDependencies(o, p)...)}
	if d.allow, err = o.loopAllowances(stuckAfter, 0, 0); err != nil {
		return usageError{err}
	}
	// Listen before anything else: a taken address is a start-up error.
	ln, err := status.Listen(o.StatusAddr)
	if err != nil {
		return usageError{err}
	}
	defer func() { _ = ln.Close() }() // also closed by the server on shutdown

	// The data plane never waits for the control plane: the host is
	// configured from what it knows (Docker, --vpc-cidr, the network saved
	// by an earlier run) before the cloud API or etcd is asked anything.
	vpcCIDRs, err := d.knownVPCCIDRs()
	if err != nil {
		return usageError{err}
	}
	d.agent = newAgent(o, p, log.Named("agent"), vpcCIDRs)
	d.agent.observe = d.metrics.ObserveHostConfigApply
	d.agent.onDocker = func(err error) { d.depState(status.DepDocker, err) }

	var wg sync.WaitGroup
	run := func(f func()) { wg.Add(1); go func() { defer wg.Done(); f() }() }
	runCtx, stop := context.WithCancel(ctx)
	defer stop()

	firstDone := make(chan struct{})
	d.beat.Watch(loopAgent, d.allow[loopAgent])
	run(func() { d.agent.run(cloud.WithProgress(runCtx, d.beater(loopAgent)), firstDone) })
	live := d.beat.Check
	serveErr := make(chan error, 1)
	run(func() {
		serveErr <- status.ServeListener(runCtx, ln, status.NewHandler(d.document, live, d.ready, d.metrics), log)
	})
	// The cloud API and etcd are reached in the background, retried until
	// they answer; then identity, the registry and the loops follow.
	fatal := make(chan error, 1)
	run(func() {
		if err := d.connect(runCtx, seams, stuckAfter, run); err != nil {
			fatal <- err
		}
	})

	select {
	case <-firstDone:
	case <-ctx.Done():
	}
	notifyReady(log)
	run(func() { watchdog(runCtx, live, log) })
	log.Info("daemon running", zap.String("mode", d.mode()), zap.String("status", o.StatusAddr))

	select {
	case <-ctx.Done():
		log.Info("stopping; routes and host config are kept")
	case err = <-serveErr:
		log.Error("status server stopped", zap.Error(err))
	case err = <-fatal:
		log.Error("stopping: the configuration cannot work", zap.Error(err))
	}
	notifyStopping()
	stop()
	wg.Wait()
	if reg := d.registry(); reg != nil {
		_ = reg.Close() // shutting down; nothing left to tell
	}
	return err
}

// daemonDependencies are what this daemon needs from outside the host:
// Docker when it discovers the subnets, the cloud API, and etcd in cluster
// mode.
func daemonDependencies(o *options, p parsed) []string {
	var deps []string
	if len(p.subnets) == 0 {
		deps = append(deps, status.DepDocker)
	}
	deps = append(deps, status.DepCloud)
	if len(o.EtcdEndpoints) > 0 {
		deps = append(deps, status.DepEtcd)
	}
	return deps
}

// knownVPCCIDRs returns the VPC's CIDRs as the host knows them without the
// cloud: --vpc-cidr, else the network saved by an earlier run, else none
// (host config then waits for the cloud). The cluster CIDR is checked
// against them before anything is applied.
func (d *daemon) knownVPCCIDRs() ([]netip.Prefix, error) {
	cidrs := d.p.vpcCIDRs
	if len(cidrs) == 0 {
		saved, ok, err := loadNetwork(d.o.CacheDir)
		switch {
		case err != nil:
			d.log.Warn("the saved network cannot be used; host config waits for the cloud API", zap.Error(err))
		case ok:
			d.log.Info("VPC CIDRs from the network saved by an earlier run", zap.Stringers("cidrs", saved.CIDRs),
				zap.Time("saved", saved.SavedAt))
			cidrs = saved.CIDRs
		}
	}
	if len(cidrs) > 0 {
		if err := reconciler.ValidateClusterCIDR(d.p.clusterCIDR, cidrs); err != nil {
			return nil, err
		}
	}
	return cidrs, nil
}

func (d *daemon) mode() string {
	if len(d.o.EtcdEndpoints) == 0 {
		return status.ModeSelf
	}
	return status.ModeCluster
}

// registry returns the registry once it has been reached, else nil.
func (d *daemon) registry() *registry.Registry {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.reg
}

// identity returns this host's identity once the cloud has told it.
func (d *daemon) identity() cloud.Instance {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.self
}

// depState records a dependency's latest outcome and logs each change.
func (d *daemon) depState(name string, err error) {
	if !d.deps.Set(name, err) {
		return
	}
	if err != nil {
		d.log.Warn("dependency down; retrying, the host stays configured", zap.String("dependency", name), zap.Error(err))
	} else {
		d.log.Info("dependency up", zap.String("dependency", name))
	}
}

// publishRegistry writes the host's record to etcd.
func (d *daemon) publishRegistry(ctx context.Context, h reconciler.Host) error {
	err := d.registry().Publish(ctx, h)
	d.depState(status.DepEtcd, err)
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
	if err := d.registry().WatchHosts(ctx, d.setHosts); err != nil && ctx.Err() == nil {
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
// Leadership ends when the lease cannot be kept (etcd unreachable) or the
// loop is stuck (resignWhenStuck): the loop stops writing at once, and the
// daemon campaigns again once it returns.
func (d *daemon) lead(ctx context.Context, loop *reconciler.Loop) {
	reg := d.registry()
	me := registry.LeaderInfo{Instance: d.identity().ID, StatusAddr: d.o.StatusAddr}
	electionCtx := cloud.WithProgress(ctx, d.beater(loopElection))
	for ctx.Err() == nil {
		l, err := reg.Campaign(electionCtx, me, d.o.LeaseTTL)
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
		// The loop runs under the term itself, so that its end (and why)
		// reaches every write at once; shutting down ends it too.
		lctx, cancel := context.WithCancel(l.Context())
		stopAfter := context.AfterFunc(ctx, cancel)
		feed := reconciler.NewHostFeed()
		d.mu.Lock()
		d.feed, d.isLeader, d.term = feed, true, l.Context()
		if d.haveHosts {
			feed.Send(d.hosts) // an empty registry is a snapshot too
		}
		d.mu.Unlock()
		d.metrics.SetLeader(true)
		d.beat.Watch(loopReconciler, d.allow[loopReconciler])
		watchCtx, stopWatch := context.WithCancel(lctx)
		watched := make(chan struct{})
		go func() { defer close(watched); d.resignWhenStuck(watchCtx, l) }()
		if err := loop.Run(cloud.WithProgress(lctx, d.beater(loopReconciler)), feed.C()); err != nil {
			d.errs.Add("reconciler", err)
		}
		stopWatch()
		<-watched
		d.beat.Forget(loopReconciler) // not reconciling: nothing to check
		stopAfter()
		cancel()
		d.endTerm(l.Context())
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
		if errors.Is(l.Err(), registry.ErrResigned) {
			d.log.Info("the stuck reconcile loop returned; campaigning again")
			continue
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
	term, reg := d.term, d.reg
	d.mu.Unlock()
	if reg != nil && term != nil {
		// Bound to the term: a deposed leader must not overwrite its
		// successor's report.
		ctx, cancel := context.WithTimeout(term, 3*time.Second)
		defer cancel()
		if err := reg.PutReport(ctx, r); err != nil && term.Err() == nil {
			d.errs.Add("registry", fmt.Errorf("publish reconcile report: %w", err))
		}
	}
}
