package reconciler

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/vpcroute/vpcroute/cloud"
)

// LoopConfig configures a reconcile loop.
type LoopConfig struct {
	// Cluster is the ownership mark the plans use, the one Provider was
	// built for; ClusterCIDR bounds every route.
	Cluster     string
	ClusterCIDR netip.Prefix
	Provider    cloud.Provider
	// Policy decides whether stale routes are deleted (default sync).
	Policy Policy
	// Identity names the instance running the loop in its reports.
	Identity string
	// Scope limits the loop to these targets' routes (self mode, without a
	// registry: a host keeps only its own routes). Empty: every owned route.
	Scope []cloud.Target
	// AllowMassDelete lifts the mass-delete guard.
	AllowMassDelete bool
	// AllowCarveOut lets a route be created inside a broader route that
	// the cluster does not own (see PlanInput.AllowCarveOut).
	AllowCarveOut bool
	// Debounce is how long registry changes are gathered into one pass.
	Debounce time.Duration
	// Resync is the period of the full pass that runs without any change.
	Resync time.Duration
	// NetworkRefresh is how often the VPC's ranges and route tables are
	// read again, and registered instances' targets verified again; they
	// change rarely and cost calls.
	NetworkRefresh time.Duration
	// Network is the VPC as the caller already read it (the daemon, at
	// connect): passes use it until NetworkRefresh after its At instead
	// of reading it again. Zero: the first pass reads it.
	Network NetworkRead
	// SilentAfter is how long a host's record may go unchanged in the
	// registry (as this leader saw it: the record's own LastSeen is not
	// believed) before the cloud is asked whether its instance still
	// exists. A silent host keeps its routes unless the cloud says it is
	// gone.
	SilentAfter time.Duration
	// Forget removes a gone host's record from the registry; nil leaves it.
	Forget func(ctx context.Context, instance string) error
	// OnReport receives every pass's report (publish, metrics, status).
	OnReport func(Report)
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
	Log *zap.Logger
}

// Defaults of LoopConfig.
const (
	DefaultDebounce       = time.Second
	DefaultResync         = time.Minute
	DefaultNetworkRefresh = 10 * time.Minute
	DefaultSilentAfter    = 3 * time.Minute
)

func (c LoopConfig) withDefaults() LoopConfig {
	if c.Policy == nil {
		c.Policy = PolicySync
	}
	if c.Debounce <= 0 {
		c.Debounce = DefaultDebounce
	}
	if c.Resync <= 0 {
		c.Resync = DefaultResync
	}
	if c.NetworkRefresh <= 0 {
		c.NetworkRefresh = DefaultNetworkRefresh
	}
	if c.SilentAfter <= 0 {
		c.SilentAfter = DefaultSilentAfter
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = zap.NewNop()
	}
	if c.OnReport == nil {
		c.OnReport = func(Report) {}
	}
	return c
}

// Loop keeps the route tables equal to the registry's claims: a pass on
// start, a debounced pass after every change of the claims, and a full
// pass every Resync.
type Loop struct {
	cfg     LoopConfig
	network NetworkRead // the last read of the VPC (or the caller's)
	// targets remembers what the cloud said about registered instances;
	// present, which refused records' instances it said exist; silence
	// when each record last changed, as the leader saw it.
	targets *targetCache
	present *presentCache
	silence silenceClock
}

// NewLoop returns a loop; it does no I/O.
func NewLoop(cfg LoopConfig) (*Loop, error) {
	if cfg.Provider == nil {
		return nil, errors.New("reconcile loop: no provider")
	}
	if err := ValidateClusterCIDR(cfg.ClusterCIDR, nil); err != nil {
		return nil, fmt.Errorf("reconcile loop: %w", err)
	}
	cfg = cfg.withDefaults()
	return &Loop{cfg: cfg, network: cfg.Network, targets: newTargetCache(cfg.NetworkRefresh),
		present: newPresentCache(cfg.NetworkRefresh), silence: silenceClock{}}, nil
}

// Run reconciles until ctx ends. Snapshots arrive on hosts; the first one
// starts the first pass, so an empty registry is never mistaken for "no
// hosts" before it was read.
//
// Run reports progress on ctx (cloud.WithProgress) on every turn, at least
// every Resync while idle, and at every phase of a pass; the providers add
// a step for every call attempt, batch and poll. A loop silent for much
// longer than Resync is stuck, however long its passes legitimately take.
func (l *Loop) Run(ctx context.Context, hosts <-chan []Host) error {
	var current []Host
	var have bool
	var lastKey string
	debounce := time.NewTimer(time.Hour)
	debounce.Stop()
	resync := time.NewTicker(l.cfg.Resync)
	defer resync.Stop()
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	failures := 0

	run := func(trigger string) {
		rep := l.Pass(ctx, current, trigger)
		if ctx.Err() != nil {
			return
		}
		l.cfg.OnReport(rep)
		retry.Stop()
		if rep.Result == ResultError {
			failures++
			retry.Reset(retryDelay(failures, l.cfg.Resync))
		} else {
			failures = 0
		}
	}
	for {
		cloud.Progress(ctx)
		select {
		case <-ctx.Done():
			return nil
		case hs, ok := <-hosts:
			if !ok {
				return nil
			}
			current = hs
			key := claimsKey(hs)
			switch {
			case !have:
				have, lastKey = true, key
				run("start")
			case key != lastKey:
				lastKey = key
				debounce.Reset(l.cfg.Debounce)
			}
		case <-debounce.C:
			run("registry")
		case <-retry.C:
			run("retry")
		case <-resync.C:
			if have {
				run("resync")
			}
		}
	}
}

// retryDelay backs off after failed passes: 2s, 4s, ... up to the resync
// period.
func retryDelay(failures int, ceiling time.Duration) time.Duration {
	d := 2 * time.Second << min(failures-1, 10)
	return min(d, ceiling)
}

// claimsKey is what of the registry matters to the plan: who claims what,
// where the record says its routes go, and whether it could be read. A
// heartbeat (LastSeen, revision) and the claims' self-reported times must
// not cause a pass.
func claimsKey(hosts []Host) string {
	var b strings.Builder
	for _, h := range hosts {
		fmt.Fprintf(&b, "%s=%s!%q", h.Instance, h.Target, h.Problem)
		for _, c := range h.Subnets {
			fmt.Fprintf(&b, ",%s", c.Subnet)
		}
		b.WriteByte(';')
	}
	return b.String()
}
