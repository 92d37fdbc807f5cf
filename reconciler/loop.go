package reconciler

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
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
	cfg       LoopConfig
	network   cloud.Network
	networkAt time.Time
	// targets remembers what the cloud said about registered instances;
	// silence when each record last changed, as the leader saw it.
	targets *targetCache
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
	return &Loop{cfg: cfg, targets: newTargetCache(cfg.NetworkRefresh), silence: silenceClock{}}, nil
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

// Pass reads the tables, admits the host records the cloud vouches for,
// plans, guards the deletions and applies. It never panics on partial
// failure: the report says what happened.
func (l *Loop) Pass(ctx context.Context, hosts []Host, trigger string) Report {
	cfg := l.cfg
	start := cfg.Now()
	rep := Report{Leader: cfg.Identity, Trigger: trigger, Started: start}
	finish := func(err error) Report {
		cloud.Progress(ctx)
		rep.Duration = cfg.Now().Sub(start)
		switch {
		case err != nil:
			// The report reaches etcd, which every host reads: no secrets.
			rep.Result, rep.Error = ResultError, cloud.Redact(oneLine(err.Error()))
		case len(rep.ClaimConflicts) > 0 || len(rep.Refused) > 0 || len(rep.Held) > 0 || len(rep.RefusedHosts) > 0 || blocking(rep.Conflicts):
			rep.Result = ResultDegraded
		default:
			rep.Result = ResultOK
		}
		return rep
	}

	network, tables, err := l.read(ctx)
	if err != nil {
		return finish(err)
	}
	// The VPC may have gained a CIDR around the cluster since start: write
	// nothing until the operator picks a cluster CIDR outside it.
	if err := ValidateClusterCIDR(cfg.ClusterCIDR, network.CIDRs); err != nil {
		return finish(err)
	}
	silent := l.silence.note(hosts, start, cfg.SilentAfter)
	checks, err := l.targets.check(ctx, cfg.Provider, hosts, start)
	if err != nil {
		cfg.Log.Warn("cannot verify every registered instance; their records wait", zap.Error(err))
	}
	accepted, refusedHosts := AdmitHosts(hosts, checks)
	for _, r := range refusedHosts {
		cfg.Log.Warn("host record refused", zap.String("instance", r.Instance), zap.String("reason", r.Reason))
	}
	routed := RoutedIn(tables, cfg.Cluster)
	plan := func(hosts []Host) (Changes, []ClaimConflict, []Desired) {
		desired, conflicts := DesiredFromHosts(hosts, routed)
		return Calculate(PlanInput{
			Cluster: cfg.Cluster, ClusterCIDR: cfg.ClusterCIDR,
			VPCCIDRs: network.CIDRs, SubnetCIDRs: network.SubnetCIDRs,
			Tables: tables, Desired: desired, Scope: cfg.Scope, Policy: cfg.Policy,
			Replace: len(cfg.Scope) == 0, AllowCarveOut: cfg.AllowCarveOut,
		}), conflicts, desired
	}
	ch, claimConflicts, desired := plan(accepted)

	gone := l.goneTargets(ctx, GoneCheck(accepted, refusedHosts, checks, silent, ch))
	accepted, forget := ForgetGone(accepted, refusedHosts, gone)
	if len(forget) > 0 {
		cfg.Log.Info("instances confirmed gone; their records and routes go", zap.Strings("instances", forget))
		ch, claimConflicts, desired = plan(accepted)
	}
	ch, held := GuardDeletes(ch, GuardInput{Registered: registeredTargets(accepted), Gone: gone,
		Owned: ownedCount(tables, cfg.Cluster, cfg.ClusterCIDR), AllowMassDelete: cfg.AllowMassDelete})
	ch = WithholdBlocked(ch)
	rep.RefusedHosts = refusedHosts
	rep.ClaimConflicts, rep.Conflicts, rep.Refused, rep.Held = claimConflicts, ch.Conflicts, ch.Refused, held
	rep.Tables = tableReports(tables, desired, ch)

	applyErr := Apply(ctx, cfg.Provider, ch)
	rep.Created, rep.Deleted = len(ch.Create), len(ch.Delete)
	if applyErr == nil {
		applyErr = l.forget(ctx, forget)
	}
	if !ch.Empty() {
		cfg.Log.Info("reconciled", zap.String("trigger", trigger), zap.Int("created", rep.Created),
			zap.Int("deleted", rep.Deleted), zap.Int("held", len(held)), zap.Error(applyErr))
	}
	return finish(applyErr)
}

// read returns the VPC's ranges and every managed table's entries.
func (l *Loop) read(ctx context.Context) (cloud.Network, map[string][]cloud.Route, error) {
	network, err := l.networkFor(ctx)
	if err != nil {
		return network, nil, err
	}
	tables := make(map[string][]cloud.Route, len(network.RouteTables))
	for _, t := range network.RouteTables {
		routes, err := l.cfg.Provider.Routes(ctx, t)
		if err != nil {
			l.networkAt = time.Time{} // a table may be gone: read the network again next time
			return network, nil, err
		}
		tables[t] = routes
		cloud.Progress(ctx)
	}
	return network, tables, nil
}

// goneTargets asks the cloud which of check are gone. Not knowing is not a
// reason to delete: on an error none is.
func (l *Loop) goneTargets(ctx context.Context, check []cloud.Target) map[cloud.Target]bool {
	gone := map[cloud.Target]bool{}
	if len(check) == 0 {
		return gone
	}
	g, err := l.cfg.Provider.GoneTargets(ctx, check)
	if err != nil {
		l.cfg.Log.Warn("cannot confirm which instances are gone; deleting none of theirs", zap.Error(err))
	}
	for _, t := range g {
		gone[t] = true
	}
	cloud.Progress(ctx)
	return gone
}

// forget removes the records of instances confirmed gone.
func (l *Loop) forget(ctx context.Context, instances []string) error {
	for _, id := range instances {
		l.targets.forget(id)
		if l.cfg.Forget == nil {
			continue
		}
		if err := l.cfg.Forget(ctx, id); err != nil {
			return fmt.Errorf("forget gone host %s: %w", id, err)
		}
	}
	return nil
}

// networkFor returns the VPC's ranges and tables, read again after
// NetworkRefresh or a failed pass.
func (l *Loop) networkFor(ctx context.Context) (cloud.Network, error) {
	if !l.networkAt.IsZero() && l.cfg.Now().Sub(l.networkAt) < l.cfg.NetworkRefresh {
		return l.network, nil
	}
	n, err := l.cfg.Provider.Network(ctx)
	if err != nil {
		return n, err
	}
	l.network, l.networkAt = n, l.cfg.Now()
	return n, nil
}

// tableReports counts each table's routes as they will be after the plan.
func tableReports(tables map[string][]cloud.Route, desired []Desired, ch Changes) []TableReport {
	var out []TableReport
	for _, id := range sortedKeys(tables) {
		tr := TableReport{ID: id, Desired: len(desired) - len(ch.Refused), Entries: len(tables[id])}
		for _, r := range ch.InSync {
			if r.TableID == id {
				tr.Actual++
				if r.Status != cloud.StatusAvailable {
					tr.Pending++
				}
			}
		}
		tr.Actual += len(routesIn(ch.Create, id))
		tr.Entries += len(routesIn(ch.Create, id)) - len(routesIn(ch.Delete, id))
		for _, c := range ch.Conflicts {
			if c.Blocking() && c.Holder.TableID == id {
				tr.Conflicts++
			}
		}
		out = append(out, tr)
	}
	return out
}

func blocking(cs []Conflict) bool {
	return slices.ContainsFunc(cs, Conflict.Blocking)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
