package daemon

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/reconciler"
	"github.com/vpcroute/vpcroute/reconciler/registry"
	"github.com/vpcroute/vpcroute/reconciler/status"
)

// daemon holds what the daemon's parts share.
type daemon struct {
	cfg     Config
	log     *zap.Logger
	agent   *agent
	metrics *status.Metrics
	errs    *status.Errors
	beat    *status.Heartbeat
	deps    *status.Dependencies
	allow   map[string]time.Duration // each loop's allowance without progress

	mu sync.Mutex
	// provider, self and network are set once the cloud has answered,
	// reg once etcd has (never in self mode); read them under mu.
	provider  cloud.Provider
	self      cloud.Instance
	network   reconciler.NetworkRead
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

// Run runs the daemon until ctx ends (nil then) or the configuration
// turns out not to work (a ConfigError). Nothing it waits for (Docker, the
// cloud API, etcd) is a reason to return: each is retried in the
// background while the host stays configured.
func Run(ctx context.Context, cfg Config) error {
	return RunWith(ctx, cfg, Seams{})
}

// RunWith is Run with seams replaced (in-process tests).
func RunWith(ctx context.Context, cfg Config, seams Seams) error {
	log := cfg.Log
	if log == nil {
		log = zap.NewNop()
	}
	var err error
	d := &daemon{cfg: cfg, log: log, metrics: status.NewMetrics(cfg.Version), errs: &status.Errors{},
		beat: status.NewHeartbeat(nil), deps: status.NewDependencies(nil, dependencies(cfg)...)}
	if d.allow, err = cfg.loopAllowances(0, 0); err != nil {
		return ConfigError{err}
	}
	// Listen before anything else: a taken address is a start-up error.
	ln, err := status.Listen(cfg.StatusAddr)
	if err != nil {
		return ConfigError{err}
	}
	defer func() { _ = ln.Close() }() // also closed by the server on shutdown

	// The data plane never waits for the control plane: the host is
	// configured from what it knows (Docker, --vpc-cidr, the network saved
	// by an earlier run) before the cloud API or etcd is asked anything.
	vpcCIDRs, err := d.knownVPCCIDRs()
	if err != nil {
		return ConfigError{err}
	}
	d.agent = newAgent(cfg, log.Named("agent"), vpcCIDRs)
	d.agent.observe = d.metrics.ObserveHostConfigApply
	d.agent.onDocker = func(err error) { d.depState(status.DepDocker, err) }

	var wg sync.WaitGroup
	run := func(f func()) { wg.Add(1); go func() { defer wg.Done(); f() }() }
	runCtx, stop := context.WithCancel(ctx)
	defer stop()

	firstDone := make(chan struct{})
	d.beat.Watch(LoopAgent, d.allow[LoopAgent])
	run(func() { d.agent.run(cloud.WithProgress(runCtx, d.beater(LoopAgent)), firstDone) })
	live := d.beat.Check
	serveErr := make(chan error, 1)
	run(func() {
		serveErr <- status.ServeListener(runCtx, ln, status.NewHandler(d.document, live, d.ready, d.metrics), log)
	})
	// The cloud API and etcd are reached in the background, retried until
	// they answer; then identity, the registry and the loops follow.
	fatal := make(chan error, 1)
	run(func() {
		if err := d.connect(runCtx, seams, run); err != nil {
			fatal <- err
		}
	})

	select {
	case <-firstDone:
	case <-ctx.Done():
	}
	notifyReady(log)
	run(func() { watchdog(runCtx, live, log) })
	log.Info("daemon running", zap.String("mode", d.mode()), zap.String("status", cfg.StatusAddr))

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

// dependencies are what this daemon needs from outside the host: Docker
// when it discovers the subnets, the cloud API, and etcd in cluster mode.
func dependencies(cfg Config) []string {
	var deps []string
	if len(cfg.Subnets) == 0 {
		deps = append(deps, status.DepDocker)
	}
	deps = append(deps, status.DepCloud)
	if cfg.clusterMode() {
		deps = append(deps, status.DepEtcd)
	}
	return deps
}

// knownVPCCIDRs returns the VPC's CIDRs as the host knows them without the
// cloud: --vpc-cidr, else the network saved by an earlier run, else none
// (host config then waits for the cloud). The cluster CIDR is checked
// against them before anything is applied.
func (d *daemon) knownVPCCIDRs() ([]netip.Prefix, error) {
	cidrs := d.cfg.VPCCIDRs
	if len(cidrs) == 0 {
		saved, ok, err := loadNetwork(d.cfg.CacheDir)
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
		if err := reconciler.ValidateClusterCIDR(d.cfg.ClusterCIDR, cidrs); err != nil {
			return nil, err
		}
	}
	return cidrs, nil
}

func (d *daemon) mode() string {
	if !d.cfg.clusterMode() {
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
	me := registry.LeaderInfo{Instance: d.identity().ID, StatusAddr: d.cfg.StatusAddr}
	electionCtx := cloud.WithProgress(ctx, d.beater(LoopElection))
	for ctx.Err() == nil {
		l, err := reg.Campaign(electionCtx, me, d.cfg.LeaseTTL)
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
		d.beat.Watch(LoopReconciler, d.allow[LoopReconciler])
		watchCtx, stopWatch := context.WithCancel(lctx)
		watched := make(chan struct{})
		go func() { defer close(watched); d.resignWhenStuck(watchCtx, l) }()
		if err := loop.Run(cloud.WithProgress(lctx, d.beater(LoopReconciler)), feed.C()); err != nil {
			d.errs.Add("reconciler", err)
		}
		stopWatch()
		<-watched
		d.beat.Forget(LoopReconciler) // not reconciling: nothing to check
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
