package daemon

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v5"
	"go.uber.org/zap"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/reconciler"
	"github.com/vpcroute/vpcroute/reconciler/registry"
	"github.com/vpcroute/vpcroute/reconciler/status"
)

// connectAttemptTimeout bounds one attempt to reach the cloud API or etcd;
// the next one follows after a backoff.
const connectAttemptTimeout = 30 * time.Second

// newConnectBackOff paces the attempts to reach a dependency: from 1 s up
// to 10 s (one cheap call each, so a dependency that comes back is used
// within seconds), jittered so that hosts rebooted together do not retry
// together.
func newConnectBackOff() backoff.BackOff {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = time.Second
	b.MaxInterval = 10 * time.Second
	b.Multiplier = 2
	b.RandomizationFactor = 0.5
	return b
}

// connect reaches the cloud API, then etcd (cluster mode), retrying each
// until it answers, and starts what depends on them: the host's identity
// and its record, the registry watch, the election and the reconcile loop.
// It never gives up on an unreachable dependency; it returns an error only
// for a configuration that cannot work (a cluster CIDR inside the VPC).
func (d *daemon) connect(ctx context.Context, seams Seams, run func(func())) error {
	if err := d.retry(ctx, status.DepCloud, func(ctx context.Context) error { return d.connectCloud(ctx, seams) }); err != nil {
		return err
	}
	self := d.identity()
	d.mu.Lock()
	prov, network := d.provider, d.network
	d.mu.Unlock()
	// The loop plans its first pass with the VPC read at connect; it reads
	// it again once that is older than its refresh period (a host that
	// becomes leader long after it connected).
	loopCfg := reconciler.LoopConfig{
		Cluster: d.cfg.Cluster, ClusterCIDR: d.cfg.ClusterCIDR, Provider: prov, Policy: d.cfg.Policy,
		Identity: self.ID, AllowMassDelete: d.cfg.AllowMassDelete, AllowCarveOut: d.cfg.AllowCarveOut,
		Debounce: d.cfg.Debounce, Resync: d.cfg.Resync, SilentAfter: d.cfg.SilentAfter, Network: network,
		Log: d.log.Named("reconciler"), OnReport: d.onReport,
	}
	if !d.cfg.clusterMode() {
		return d.startSelfMode(ctx, loopCfg, self, run)
	}
	if err := d.retry(ctx, status.DepEtcd, d.connectRegistry); err != nil {
		return err
	}
	reg := d.registry()
	loopCfg.Forget = reg.Forget // its record and its subnet lease
	// One loop for every leadership term: a new term keeps the cached
	// network read.
	loop, err := reconciler.NewLoop(loopCfg)
	if err != nil {
		return ConfigError{err}
	}
	allow, err := d.cfg.loopAllowances(reg.MaxCampaignSilence(d.cfg.LeaseTTL), reg.MaxWatchSilence())
	if err != nil {
		return ConfigError{err}
	}
	d.mu.Lock()
	d.allow = allow
	d.mu.Unlock()
	d.beat.Watch(LoopRegistry, allow[LoopRegistry])
	d.beat.Watch(LoopElection, allow[LoopElection])
	run(func() { d.watchHosts(cloud.WithProgress(ctx, d.beater(LoopRegistry))) })
	run(func() { d.lead(ctx, loop) })
	d.agent.setPublish(d.publishRegistry)
	d.log.Info("registered with the cluster", zap.String("instance", self.ID))
	return nil
}

// retry runs attempt until it succeeds, ctx ends (nil then) or it fails
// with a configuration error (returned). Each outcome is the dependency's
// state on /status and /readyz.
func (d *daemon) retry(ctx context.Context, dep string, attempt func(context.Context) error) error {
	b := newConnectBackOff()
	for {
		actx, cancel := context.WithTimeout(ctx, min(d.cfg.Timeout, connectAttemptTimeout))
		err := attempt(actx)
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		var bad ConfigError
		if errors.As(err, &bad) {
			return err // the configuration, not the dependency: not retried
		}
		d.depState(dep, err)
		if err == nil {
			return nil
		}
		wait := b.NextBackOff()
		d.log.Debug("dependency unreachable; retrying", zap.String("dependency", dep), zap.Duration("in", wait), zap.Error(err))
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

// connectCloud asks the cloud who this host is and what its VPC holds,
// saves the VPC's CIDRs for the next boot, hands both to the agent and
// keeps the VPC for the reconcile loop's first pass.
func (d *daemon) connectCloud(ctx context.Context, seams Seams) error {
	prov, err := d.cfg.NewProvider(ctx, d.log, d.metrics)
	if err != nil {
		return err
	}
	if seams.WrapProvider != nil {
		prov = seams.WrapProvider(prov)
	}
	self, err := prov.Self(ctx)
	if err != nil {
		return fmt.Errorf("identify this host: %w", err)
	}
	readAt := time.Now()
	network, err := prov.Network(ctx)
	if err != nil {
		return fmt.Errorf("read the VPC: %w", err)
	}
	if err := reconciler.ValidateClusterCIDR(d.cfg.ClusterCIDR, network.CIDRs); err != nil {
		return ConfigError{err}
	}
	if len(d.cfg.VPCCIDRs) == 0 {
		saved := SavedNetwork{VPCID: network.VPCID, CIDRs: network.CIDRs, SavedAt: time.Now().UTC()}
		if err := SaveNetwork(d.cfg.CacheDir, saved); err != nil {
			// The next boot will wait for the cloud instead; nothing else
			// depends on it.
			d.log.Warn("cannot save the network for the next boot", zap.Error(err))
		}
	}
	var prepare func(context.Context) error
	if hp, ok := prov.(cloud.HostPreparer); ok {
		prepare = func(ctx context.Context) error { return hp.PrepareHost(ctx) }
	}
	d.mu.Lock()
	d.provider, d.self = prov, self
	d.network = reconciler.NetworkRead{Network: network, At: readAt}
	d.mu.Unlock()
	d.agent.setCloud(self, network.CIDRs, prepare)
	d.log.Info("cloud reached", zap.String("instance", self.ID), zap.Stringers("vpcCidrs", network.CIDRs))
	return nil
}

// connectRegistry opens the registry and adopts this host's earlier record
// (its claim order), before anything is published.
func (d *daemon) connectRegistry(ctx context.Context) error {
	ropts := d.cfg.Registry
	ropts.Logger = d.log.Named("registry")
	reg, err := registry.Open(ctx, ropts)
	if err != nil {
		return err
	}
	prev, ok, err := reg.Get(ctx, d.identity().ID)
	if err != nil {
		_ = reg.Close() // the next attempt opens a new one
		return fmt.Errorf("read this host's record: %w", err)
	}
	if ok {
		d.agent.adopt(prev)
	}
	d.mu.Lock()
	d.reg = reg
	d.mu.Unlock()
	d.metrics.SetRegistryUp(true)
	return nil
}

// startSelfMode runs the loop for this host's own routes: the host is its
// own registry.
func (d *daemon) startSelfMode(ctx context.Context, cfg reconciler.LoopConfig, self cloud.Instance, run func(func())) error {
	cfg.Scope = []cloud.Target{self.Target}
	loop, err := reconciler.NewLoop(cfg)
	if err != nil {
		return ConfigError{err}
	}
	feed := reconciler.NewHostFeed()
	d.mu.Lock()
	d.feed, d.isLeader = feed, true
	d.mu.Unlock()
	d.metrics.SetLeader(true)
	d.beat.Watch(LoopReconciler, d.allow[LoopReconciler])
	run(func() {
		if err := loop.Run(cloud.WithProgress(ctx, d.beater(LoopReconciler)), feed.C()); err != nil {
			d.errs.Add("reconciler", err)
		}
	})
	d.agent.setPublish(func(_ context.Context, h reconciler.Host) error {
		d.setHosts([]reconciler.Host{h})
		return nil
	})
	return nil
}
