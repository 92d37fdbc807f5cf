package daemon

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/hostcfg"
	"github.com/vpcroute/vpcroute/reconciler"
	"github.com/vpcroute/vpcroute/reconciler/status"
)

// agent is the part of the daemon that runs on every host: it keeps this
// host's ip_forward and iptables as vpcroute wants them, and keeps this
// host's record (its subnets) current for the reconciler.
//
// It starts from what the host knows (Docker, the saved network, flags)
// and never waits for the cloud or etcd: who this host is, where its
// record goes and how to prepare the instance arrive later, through
// setCloud and setPublish, when those answer.
type agent struct {
	cfg Config
	log *zap.Logger
	// observe is told about every host-config apply (metrics); onDocker
	// about every subnet discovery (dependency state). Both may be nil.
	observe  func(changed bool, err error)
	onDocker func(err error)
	// heartbeat is how often the record is written with a new LastSeen;
	// recheck how often host config is re-applied without any event.
	heartbeat, recheck time.Duration
	// kick asks the run loop to configure again now.
	kick chan struct{}

	mu sync.Mutex
	// self is this host's identity, vpcCIDRs the VPC's ranges (known
	// from flags or the saved network before the cloud answers).
	self     cloud.Instance
	vpcCIDRs []netip.Prefix
	// publish hands the host's record on: to the registry, or straight to
	// the local loop in self mode; nil until there is somewhere to go.
	publish func(ctx context.Context, h reconciler.Host) error
	// prepare readies this host's instance for routing (nil: nothing to
	// do); it runs with every check and must be cheap once done.
	prepare func(ctx context.Context) error
	state   agentState
}

// newAgent returns an agent that knows the VPC's CIDRs when vpcCIDRs is not
// empty; it does no I/O.
func newAgent(cfg Config, log *zap.Logger, vpcCIDRs []netip.Prefix) *agent {
	return &agent{cfg: cfg, log: log, heartbeat: cfg.Heartbeat, recheck: cfg.HostCheck,
		kick: make(chan struct{}, 1), vpcCIDRs: slices.Clone(vpcCIDRs)}
}

// setCloud gives the agent what the cloud said: this host's identity, the
// VPC's CIDRs and how to prepare the instance. New CIDRs are applied at
// once.
func (a *agent) setCloud(self cloud.Instance, vpcCIDRs []netip.Prefix, prepare func(context.Context) error) {
	a.mu.Lock()
	changed := !slices.Equal(a.vpcCIDRs, vpcCIDRs)
	a.self, a.vpcCIDRs, a.prepare = self, slices.Clone(vpcCIDRs), prepare
	a.mu.Unlock()
	if changed {
		a.log.Info("VPC CIDRs from the cloud", zap.Stringers("cidrs", vpcCIDRs))
	}
	a.kickNow()
}

// setPublish gives the agent where its record goes, and publishes at once.
func (a *agent) setPublish(publish func(ctx context.Context, h reconciler.Host) error) {
	a.mu.Lock()
	a.publish = publish
	a.mu.Unlock()
	a.kickNow()
}

// kickNow asks the run loop for a configure and a publish, without
// waiting.
func (a *agent) kickNow() {
	select {
	case a.kick <- struct{}{}:
	default:
	}
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
	// bipMismatch says why the bip daemon.json sets is not what Docker
	// runs (Docker not restarted since `vpcroute allocate`), or "".
	bipMismatch string
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
		HostConfig: a.state.hostConfig, Version: a.cfg.Version, StatusAddr: a.cfg.StatusAddr, LastSeen: now}
	for _, s := range a.state.subnets {
		h.Subnets = append(h.Subnets, reconciler.Claim{Subnet: s, Since: a.state.since[s]})
	}
	return h
}

// adopt starts from the record written before this process started: its
// claim times keep this host's place, and its subnets stand until a
// discovery says otherwise (when Docker has already answered, its subnets
// win).
func (a *agent) adopt(prev reconciler.Host) {
	a.mu.Lock()
	defer a.mu.Unlock()
	since := map[netip.Prefix]time.Time{}
	for _, c := range prev.Subnets {
		if !c.Since.IsZero() {
			since[c.Subnet] = c.Since
		}
	}
	if a.state.known {
		for _, s := range a.state.subnets {
			if t, ok := since[s]; ok {
				a.state.since[s] = t
			}
		}
		return
	}
	a.state.since = since
	a.state.subnets, a.state.known = prev.SubnetPrefixes(), true
}

// run keeps the host configured and the record published until ctx ends.
// firstDone is closed after the first attempt (successful or not). Every
// turn reports progress on ctx (cloud.WithProgress), at least every
// recheck and heartbeat interval.
func (a *agent) run(ctx context.Context, firstDone chan<- struct{}) {
	go a.watchDocker(ctx, a.kick)
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
		case <-a.kick:
			// Also a new identity or a registry reached: publish either way.
			a.configure(ctx)
			a.publishNow(ctx)
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
	if a.onDocker != nil && len(a.cfg.Subnets) == 0 {
		a.onDocker(err)
	}
	if err == nil && len(a.cfg.Subnets) == 0 {
		a.checkBIP(subnets)
	}
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
	known := a.state.known
	vpcCIDRs, prepare := slices.Clone(a.vpcCIDRs), a.prepare
	a.mu.Unlock()
	if err != nil && !known {
		a.setHostConfig(now, false, fmt.Errorf("discover subnets: %w", err))
		return subnetsChanged
	}
	if err != nil {
		// Docker is down: keep the host configured for the subnets known
		// before (its containers come back on them), and say so.
		a.log.Warn("cannot read Docker; keeping host config for the subnets known before", zap.Error(err))
	}
	if prepare != nil {
		// Cheap once done: the provider remembers it.
		if err := prepare(ctx); err != nil {
			a.setHostConfig(now, false, fmt.Errorf("prepare this instance for routing: %w", err))
			return subnetsChanged
		}
	}
	if !a.cfg.HostConfig {
		a.setHostConfig(now, false, nil)
		return subnetsChanged
	}
	if len(vpcCIDRs) == 0 {
		a.setHostConfig(now, false, errWaitingForVPC)
		return subnetsChanged
	}
	host := a.cfg.Host
	host.Subnets, host.VPCCIDRs = current, vpcCIDRs
	res, err := hostcfg.Apply(ctx, host, a.log)
	if err != nil {
		err = fmt.Errorf("configure host: %w", err)
	}
	a.setHostConfig(now, res.Changed(), err)
	return subnetsChanged
}

func (a *agent) discover(ctx context.Context) ([]netip.Prefix, error) {
	if len(a.cfg.Subnets) > 0 {
		return slices.Clone(a.cfg.Subnets), nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	subnets, err := hostcfg.DiscoverSubnets(ctx, a.cfg.DockerHost, a.cfg.Networks)
	slices.SortFunc(subnets, func(x, y netip.Prefix) int { return x.Addr().Compare(y.Addr()) })
	return subnets, err
}

// errWaitingForVPC: host config needs the VPC's CIDRs (forwarding from them
// into local subnets is accepted), and nothing has given them yet.
var errWaitingForVPC = errors.New("waiting for the VPC's CIDRs: the cloud API has not answered, none were saved by an earlier run, and --vpc-cidr is not given")

func (a *agent) setHostConfig(now time.Time, changed bool, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.state.lastApplied = now
	switch {
	case errors.Is(err, errWaitingForVPC):
		if a.state.hostConfig != status.HostConfigWaiting {
			a.log.Warn("host config waits", zap.Error(err))
		}
		a.state.hostConfig, a.state.hostErr = status.HostConfigWaiting, err.Error()
		return
	case err != nil:
		if a.state.hostErr != err.Error() {
			a.log.Error("host config failed", zap.Error(err))
		}
		a.state.hostConfig, a.state.hostErr = "error", err.Error()
	case !a.cfg.HostConfig:
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
	if a.observe != nil && a.cfg.HostConfig {
		a.observe(changed, err)
	}
}

// publishNow writes the record; a failure is kept for /status and retried
// with the next heartbeat.
func (a *agent) publishNow(ctx context.Context) {
	a.mu.Lock()
	known, publish, identified := a.state.known, a.publish, a.self.ID != ""
	a.mu.Unlock()
	if !known || publish == nil || !identified {
		return // nothing to claim yet, or nowhere and no one to claim it as
	}
	now := time.Now()
	h := a.record(now)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	err := publish(pctx, h)
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
	if len(a.cfg.Subnets) > 0 && !a.cfg.HostConfig {
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
		d, err := hostcfg.NewDocker(a.cfg.DockerHost)
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

// checkBIP compares the bip daemon.json sets with the subnets Docker runs
// and keeps the difference for /status, logging each change. A daemon.json
// that cannot be read is logged and not compared: the check is advice.
func (a *agent) checkBIP(running []netip.Prefix) {
	if a.cfg.DockerConfig == "" {
		return
	}
	var why string
	f, err := hostcfg.LoadDockerConfig(a.cfg.DockerConfig)
	if err == nil {
		var bip netip.Prefix
		if bip, _, err = f.Config.BIP(); err == nil {
			why = hostcfg.BIPNotRunning(bip, running)
		}
	}
	if err != nil {
		a.log.Debug("cannot compare Docker's bip with daemon.json", zap.Error(err))
	}
	a.mu.Lock()
	changed := a.state.bipMismatch != why
	a.state.bipMismatch = why
	a.mu.Unlock()
	switch {
	case changed && why != "":
		a.log.Warn("Docker does not run the allocated subnet yet", zap.String("reason", why))
	case changed:
		a.log.Info("Docker runs the bip daemon.json sets")
	}
}
