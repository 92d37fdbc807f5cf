package reconciler

import (
	"context"
	"fmt"
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/internal/textline"
)

// Pass reads the tables, admits the host records the cloud vouches for,
// plans, guards the deletions and applies. It never panics on partial
// failure: the report says what happened.
func (l *Loop) Pass(ctx context.Context, hosts []Host, trigger string) Report {
	start := l.cfg.Now()
	rep := Report{Leader: l.cfg.Identity, Trigger: trigger, Started: start}
	err := l.pass(ctx, hosts, start, &rep)
	cloud.Progress(ctx)
	rep.Duration = l.cfg.Now().Sub(start)
	rep.Result, rep.Error = result(rep, err)
	return rep
}

// pass runs a pass's steps in order, filling rep; an error ends it there
// (nothing after the failed step is written).
func (l *Loop) pass(ctx context.Context, hosts []Host, start time.Time, rep *Report) error {
	network, tables, err := l.read(ctx)
	if err != nil {
		return err
	}
	// The VPC may have gained a CIDR around the cluster since start: write
	// nothing until the operator picks a cluster CIDR outside it.
	if err := ValidateClusterCIDR(l.cfg.ClusterCIDR, network.CIDRs); err != nil {
		return err
	}
	silent := l.silence.note(hosts, start, l.cfg.SilentAfter)
	accepted, refused, checks := l.admit(ctx, hosts, start)
	p := newPlanner(l.cfg, network, tables)
	pl := p.plan(accepted)

	// A refused record whose instance the cloud said exists (another VPC)
	// is not asked about again on every pass (presentCache).
	ask := l.present.unknown(hosts, refused, start)
	check := GoneCheck(accepted, ask, checks, silent, pl.changes)
	gone, answered := l.goneTargets(ctx, check)
	if answered {
		l.present.note(hosts, ask, check, gone, start)
	}
	accepted, forget := ForgetGone(accepted, refused, gone)
	if len(forget) > 0 {
		l.cfg.Log.Info("instances confirmed gone; their records and routes go", zap.Strings("instances", forget))
		pl = p.plan(accepted)
	}
	ch, held := l.guard(pl.changes, accepted, gone, tables)
	ch = WithholdBlocked(ch)
	rep.RefusedHosts = refused
	rep.ClaimConflicts, rep.Conflicts, rep.Refused, rep.Held = pl.claimConflicts, ch.Conflicts, ch.Refused, held
	rep.Tables = tableReports(tables, pl.desired, ch)
	return l.apply(ctx, ch, forget, rep)
}

// result is a pass's outcome: error when a step failed (with the error as
// one line, scrubbed: the report reaches etcd, which every host reads),
// degraded when something was refused, held or left in conflict, else ok.
func result(rep Report, err error) (res, msg string) {
	switch {
	case err != nil:
		return ResultError, cloud.Redact(textline.Join(err.Error(), " "))
	case len(rep.ClaimConflicts) > 0 || len(rep.Refused) > 0 || len(rep.Held) > 0 || len(rep.RefusedHosts) > 0 || blocking(rep.Conflicts):
		return ResultDegraded, ""
	default:
		return ResultOK, ""
	}
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
			l.network.At = time.Time{} // a table may be gone: read the network again next time
			return network, nil, err
		}
		tables[t] = routes
		cloud.Progress(ctx)
	}
	return network, tables, nil
}

// networkFor returns the VPC's ranges and tables, read again after
// NetworkRefresh or a failed pass.
func (l *Loop) networkFor(ctx context.Context) (cloud.Network, error) {
	if l.network.Fresh(l.cfg.Now(), l.cfg.NetworkRefresh) {
		return l.network.Network, nil
	}
	at := l.cfg.Now()
	n, err := l.cfg.Provider.Network(ctx)
	if err != nil {
		return n, err
	}
	l.network = NetworkRead{Network: n, At: at}
	return n, nil
}

// admit asks the cloud (through the target cache) about every registered
// instance and admits the records it vouches for (AdmitHosts). An
// instance the cloud could not be asked about waits: its record is
// refused for this pass, never taken on its word.
func (l *Loop) admit(ctx context.Context, hosts []Host, now time.Time) ([]Host, []RefusedHost, map[string]InstanceCheck) {
	checks, err := l.targets.check(ctx, l.cfg.Provider, hosts, now)
	if err != nil {
		l.cfg.Log.Warn("cannot verify every registered instance; their records wait", zap.Error(err))
	}
	accepted, refused := AdmitHosts(hosts, checks)
	for _, r := range refused {
		l.cfg.Log.Warn("host record refused", zap.String("instance", r.Instance), zap.String("reason", r.Reason))
	}
	return accepted, refused, checks
}

// planner plans a pass against the network and tables as read; a pass
// plans twice when hosts turn out to be gone.
type planner struct {
	cfg     LoopConfig
	network cloud.Network
	tables  map[string][]cloud.Route
	routed  Routed // what the cluster routes already: it settles overlapping claims
}

// passPlan is what planning for a set of admitted hosts gives.
type passPlan struct {
	changes        Changes
	claimConflicts []ClaimConflict
	desired        []Desired
}

func newPlanner(cfg LoopConfig, network cloud.Network, tables map[string][]cloud.Route) planner {
	return planner{cfg: cfg, network: network, tables: tables, routed: RoutedIn(tables, cfg.Cluster)}
}

// plan turns the admitted hosts' claims into desired routes
// (DesiredFromHosts) and compares them with the tables (Calculate).
func (p planner) plan(hosts []Host) passPlan {
	desired, conflicts := DesiredFromHosts(hosts, p.routed)
	ch := Calculate(PlanInput{
		Cluster: p.cfg.Cluster, ClusterCIDR: p.cfg.ClusterCIDR,
		VPCCIDRs: p.network.CIDRs, SubnetCIDRs: p.network.SubnetCIDRs,
		Tables: p.tables, Desired: desired, Scope: p.cfg.Scope, Policy: p.cfg.Policy,
		Replace: len(p.cfg.Scope) == 0, AllowCarveOut: p.cfg.AllowCarveOut,
	})
	return passPlan{changes: ch, claimConflicts: conflicts, desired: desired}
}

// goneTargets asks the cloud which of check are gone, and whether it
// answered. Not knowing is not a reason to delete: on an error none is.
func (l *Loop) goneTargets(ctx context.Context, check []cloud.Target) (map[cloud.Target]bool, bool) {
	gone := map[cloud.Target]bool{}
	if len(check) == 0 {
		return gone, true
	}
	g, err := l.cfg.Provider.GoneTargets(ctx, check)
	if err != nil {
		l.cfg.Log.Warn("cannot confirm which instances are gone; deleting none of theirs", zap.Error(err))
	}
	for _, t := range g {
		gone[t] = true
	}
	cloud.Progress(ctx)
	return gone, err == nil
}

// guard holds back the deletions not proven safe (GuardDeletes): a target
// neither registered nor confirmed gone, or too many at once.
func (l *Loop) guard(ch Changes, accepted []Host, gone map[cloud.Target]bool, tables map[string][]cloud.Route) (Changes, []Held) {
	return GuardDeletes(ch, GuardInput{Registered: registeredTargets(accepted), Gone: gone,
		Owned: ownedCount(tables, l.cfg.Cluster, l.cfg.ClusterCIDR), AllowMassDelete: l.cfg.AllowMassDelete})
}

// apply writes the changes and, once they are all written, forgets the
// gone hosts' records (their routes are gone by then). It counts the
// writes into rep and logs a pass that changed anything.
func (l *Loop) apply(ctx context.Context, ch Changes, forget []string, rep *Report) error {
	err := Apply(ctx, l.cfg.Provider, ch)
	rep.Created, rep.Deleted = len(ch.Create), len(ch.Delete)
	if err == nil {
		err = l.forget(ctx, forget)
	}
	if !ch.Empty() {
		l.cfg.Log.Info("reconciled", zap.String("trigger", rep.Trigger), zap.Int("created", rep.Created),
			zap.Int("deleted", rep.Deleted), zap.Int("held", len(rep.Held)), zap.Error(err))
	}
	return err
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
