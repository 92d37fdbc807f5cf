package main

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/hostcfg"
	"github.com/vpcroute/vpcroute/reconciler"
)

// agent is the part of the daemon that runs on every host: it keeps this
// host's ip_forward and iptables as vpcroute wants them, and keeps this
// host's record (its subnets) current for the reconciler.
type agent struct {
	o        *options
	p        parsed
	log      *zap.Logger
	self     cloud.Instance
	vpcCIDRs []netip.Prefix
	// publish hands the host's record on: to the registry, or straight to
	// the local loop in self mode. It is called with every heartbeat.
	publish func(ctx context.Context, h reconciler.Host) error
	// observe is told about every host-config apply (metrics).
	observe func(changed bool, err error)
	// prepare readies this host's instance for routing (nil: nothing to
	// do); it runs with every check and must be cheap once done.
	prepare func(ctx context.Context) error
	// heartbeat is how often the record is written with a new LastSeen;
	// recheck how often host config is re-applied without any event.
	heartbeat, recheck time.Duration

	mu    sync.Mutex
	state agentState
}

// agentState is what the agent knows, for /status.
type agentState struct {
	subnets     []netip.Prefix
	since       map[netip.Prefix]time.Time
	hostConfig  string // ok, error, disabled
	hostErr     string
	lastApplied time.Time
	lastChange  time.Time
	published   time.Time
	publishErr  string
	ready       bool
	// known is true once the subnets came from a successful discovery or
	// from this host's record in the registry. Until then nothing is
	// published: an empty claim would make the leader delete this host's
	// routes (Docker down at start is not the host giving them up).
	known bool
}

// snapshot returns a copy of the agent's state.
func (a *agent) snapshot() agentState {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.state
	s.subnets = slices.Clone(s.subnets)
	return s
}

// record is this host's registry record as of now.
func (a *agent) record(now time.Time) reconciler.Host {
	a.mu.Lock()
	defer a.mu.Unlock()
	h := reconciler.Host{Instance: a.self.ID, Target: a.self.Target, PrivateIP: a.self.PrivateIP,
		HostConfig: a.state.hostConfig, Version: version, StatusAddr: a.o.StatusAddr, LastSeen: now}
	for _, s := range a.state.subnets {
		h.Subnets = append(h.Subnets, reconciler.Claim{Subnet: s, Since: a.state.since[s]})
	}
	return h
}

// adopt starts from the record written before this process started: its
// subnets stand until a discovery says otherwise, and its claim times keep
// this host's place in claim order.
func (a *agent) adopt(prev reconciler.Host) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.state.since = map[netip.Prefix]time.Time{}
	for _, c := range prev.Subnets {
		if !c.Since.IsZero() {
			a.state.since[c.Subnet] = c.Since
		}
	}
	a.state.subnets, a.state.known = prev.SubnetPrefixes(), true
}

// run keeps the host configured and the record published until ctx ends.
// firstDone is closed after the first attempt (successful or not). Every
// turn reports progress on ctx (cloud.WithProgress), at least every
// recheck and heartbeat interval.
func (a *agent) run(ctx context.Context, firstDone chan<- struct{}) {
	kick := make(chan struct{}, 1)
	go a.watchDocker(ctx, kick)
	a.configure(ctx)
	a.publishNow(ctx)
	close(firstDone)
	recheck := time.NewTicker(a.recheck)
	defer recheck.Stop()
	heartbeat := time.NewTicker(a.heartbeat)
	defer heartbeat.Stop()
	for {
		cloud.Progress(ctx)
		select {
		case <-ctx.Done():
			return
		case <-kick:
			if a.configure(ctx) {
				a.publishNow(ctx)
			}
		case <-recheck.C:
			if a.configure(ctx) {
				a.publishNow(ctx)
			}
		case <-heartbeat.C:
			a.publishNow(ctx)
		}
	}
}

// configure discovers the subnets and applies host config. It reports
// whether the subnets changed. A failed discovery keeps the subnets known
// before: Docker being down is not the host giving up its subnets.
func (a *agent) configure(ctx context.Context) (subnetsChanged bool) {
	subnets, err := a.discover(ctx)
	now := time.Now()
	a.mu.Lock()
	if err == nil && (!slices.Equal(subnets, a.state.subnets) || !a.state.known) {
		// A subnet given up loses its claim time: claimed again later, it
		// queues behind whoever claimed it meanwhile.
		since := make(map[netip.Prefix]time.Time, len(subnets))
		for _, s := range subnets {
			t, ok := a.state.since[s]
			if !ok {
				t = now
			}
			since[s] = t
		}
		a.log.Info("local subnets", zap.Stringers("subnets", subnets))
		a.state.since, a.state.subnets, a.state.known, subnetsChanged = since, subnets, true, true
	}
	current := slices.Clone(a.state.subnets)
	a.mu.Unlock()
	if err != nil {
		a.setHostConfig(now, false, fmt.Errorf("discover subnets: %w", err))
		return subnetsChanged
	}
	if a.prepare != nil {
		// Cheap once done: the provider remembers it.
		if err := a.prepare(ctx); err != nil {
			a.setHostConfig(now, false, fmt.Errorf("prepare this instance for routing: %w", err))
			return subnetsChanged
		}
	}
	if !a.o.HostConfig {
		a.setHostConfig(now, false, nil)
		return subnetsChanged
	}
	res, err := hostcfg.Apply(ctx, hostOptions(a.o, a.p, current, a.vpcCIDRs), a.log)
	if err != nil {
		err = fmt.Errorf("configure host: %w", err)
	}
	a.setHostConfig(now, res.Changed(), err)
	return subnetsChanged
}

func (a *agent) discover(ctx context.Context) ([]netip.Prefix, error) {
	if len(a.p.subnets) > 0 {
		return slices.Clone(a.p.subnets), nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	subnets, err := hostcfg.DiscoverSubnets(ctx, a.o.DockerHost, a.o.Networks)
	slices.SortFunc(subnets, func(x, y netip.Prefix) int { return x.Addr().Compare(y.Addr()) })
	return subnets, err
}

func (a *agent) setHostConfig(now time.Time, changed bool, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.state.lastApplied = now
	switch {
	case err != nil:
		if a.state.hostErr != err.Error() {
			a.log.Error("host config failed", zap.Error(err))
		}
		a.state.hostConfig, a.state.hostErr = "error", err.Error()
	case !a.o.HostConfig:
		a.state.hostConfig, a.state.hostErr = "disabled", ""
	default:
		if a.state.hostConfig == "error" {
			a.log.Info("host config recovered")
		}
		a.state.hostConfig, a.state.hostErr = "ok", ""
	}
	if changed {
		a.state.lastChange = now
		a.log.Info("host config re-applied")
	}
	if a.observe != nil && a.o.HostConfig {
		a.observe(changed, err)
	}
}

// publishNow writes the record; a failure is kept for /status and retried
// with the next heartbeat.
func (a *agent) publishNow(ctx context.Context) {
	a.mu.Lock()
	known := a.state.known
	a.mu.Unlock()
	if !known {
		return
	}
	now := time.Now()
	h := a.record(now)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	err := a.publish(pctx, h)
	a.mu.Lock()
	defer a.mu.Unlock()
	if err != nil {
		if a.state.publishErr == "" {
			a.log.Warn("cannot publish this host's record; host config and routes are kept", zap.Error(err))
		}
		a.state.publishErr = err.Error()
		return
	}
	if a.state.publishErr != "" {
		a.log.Info("host record published again")
	}
	a.state.published, a.state.publishErr, a.state.ready = now, "", true
}

// watchDocker kicks the agent on every Docker network change and after
// Docker comes back from a restart (which puts Docker's MASQUERADE back on
// top of POSTROUTING). It reconnects until ctx ends.
func (a *agent) watchDocker(ctx context.Context, kick chan<- struct{}) {
	if len(a.p.subnets) > 0 && !a.o.HostConfig {
		return // nothing here depends on Docker
	}
	send := func() {
		select {
		case kick <- struct{}{}:
		default:
		}
	}
	connected := true
	for ctx.Err() == nil {
		d, err := hostcfg.NewDocker(a.o.DockerHost)
		if err != nil {
			a.log.Error("docker events", zap.Error(err))
			return // a bad address does not get better
		}
		notices, errc := d.NetworkChanges(ctx)
		first := true
		for notices != nil {
			select {
			case _, ok := <-notices:
				if !ok {
					notices = nil
					break
				}
				send()
			case err, ok := <-errc:
				if ok && err != nil && connected {
					a.log.Warn("lost docker events; reconnecting", zap.Error(err))
				}
				notices = nil
			case <-time.After(200 * time.Millisecond):
				if first && !connected {
					// The stream is up again: Docker restarted. Apply now,
					// and once more when its own rules have settled.
					a.log.Info("docker is back; re-applying host config")
					send()
					time.AfterFunc(2*time.Second, send)
					connected = true
				}
				first = false
			}
		}
		_ = d.Close() // the stream is over; nothing to do with its close error
		connected = false
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
}
