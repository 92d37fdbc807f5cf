package doctor

import (
	"fmt"
	"strings"
	"time"

	"github.com/vpcroute/vpcroute/reconciler"
	"github.com/vpcroute/vpcroute/reconciler/status"
)

// checkDaemon returns the daemon checks: its status answers, a leader is
// known, this host is registered, the last reconcile pass is recent and
// succeeded. Without a daemon they are skipped: one-shot `vpcroute sync`
// hosts have none.
func checkDaemon(f Facts) []Check {
	dm := f.Daemon
	if dm.Doc == nil {
		first := defDaemonStatus.skip(fmt.Sprintf("no daemon answers at %s (%s): the daemon checks need `vpcroute daemon`", dm.Addr, dm.Err))
		if !dm.Absent {
			first = defDaemonStatus.fail(dm.Err, "check --status-addr (the daemon's own --status-addr) and that the daemon there is vpcroute's")
		}
		why := "no daemon status (see daemon.status)"
		return []Check{first, defDaemonLeader.skip(why), defDaemonReg.skip(why), defReconcileAge.skip(why), defReconcileDone.skip(why)}
	}
	doc := *dm.Doc
	return []Check{checkDaemonStatus(f, doc), checkLeader(doc), checkRegistered(doc), checkReconcileAge(dm, doc), checkReconcileResult(doc)}
}

// checkDaemonStatus: the daemon answering is this host's, for this cluster.
func checkDaemonStatus(f Facts, doc status.Document) Check {
	d := defDaemonStatus
	self := f.Cloud.Self.ID
	switch {
	case doc.Cluster != f.Cluster:
		return d.fail(fmt.Sprintf("the daemon at %s serves cluster %s, not %s", f.Daemon.Addr, doc.Cluster, f.Cluster),
			"pass the daemon's --cluster-name to doctor (or the config file both read)")
	case self != "" && doc.Host.Instance != self:
		return d.fail(fmt.Sprintf("the daemon at %s runs for instance %s, not this host %s", f.Daemon.Addr, doc.Host.Instance, self),
			"point --status-addr at this host's daemon")
	}
	return d.pass(fmt.Sprintf("vpcroute %s at %s, %s mode, host config %s", doc.Version, f.Daemon.Addr, doc.Mode, orNone(doc.Host.HostConfig.State)))
}

// checkLeader: someone reconciles the route tables.
func checkLeader(doc status.Document) Check {
	d := defDaemonLeader
	l := doc.Leader
	switch {
	case !l.Known:
		return d.fail("no leader is known: none is elected, or this daemon cannot reach the registry; nobody keeps the routes true",
			"check etcd (--etcd-endpoints; etcdctl endpoint health) and the daemons' logs; `vpcroute status` on each host shows its errors")
	case l.IsSelf:
		return d.pass(fmt.Sprintf("this host (%s) leads", l.Instance))
	}
	return d.pass(fmt.Sprintf("%s leads", l.Instance))
}

// checkRegistered: the leader routes only registered hosts.
func checkRegistered(doc status.Document) Check {
	d := defDaemonReg
	if !doc.Host.Registered {
		return d.fail(fmt.Sprintf("%s is not in the registry: the leader does not route its subnets", doc.Host.Instance),
			"see the daemon's errors in `vpcroute status` (registry unreachable, permissions) and its log")
	}
	return d.pass(fmt.Sprintf("%s registered with %s (%d hosts in the registry)", doc.Host.Instance, prefixes(doc.Host.Subnets), len(doc.Hosts)))
}

// checkReconcileAge: the last pass ended within three resync intervals of
// the document's time; a leader that stopped passing keeps nothing true.
func checkReconcileAge(dm DaemonFacts, doc status.Document) Check {
	d := defReconcileAge
	r := doc.Reconcile
	if r == nil {
		return d.fail("no reconcile pass is known yet", "wait for the leader's first pass; if none comes, see the leader's log and `vpcroute status`")
	}
	ended := r.Started.Add(r.Duration)
	age := doc.Generated.Sub(ended)
	if age < 0 {
		age = 0
	}
	limit := 3 * dm.Resync
	msg := fmt.Sprintf("the last pass (by %s, trigger %s) ended %s ago", r.Leader, r.Trigger, age.Round(time.Second))
	if age > limit {
		return d.fail(fmt.Sprintf("%s, more than 3 × the resync interval %s: the leader is stuck or gone", msg, dm.Resync),
			fmt.Sprintf("see `vpcroute status` and the log on the leader (%s); if the daemons run with another --resync-interval, pass it to doctor", r.Leader))
	}
	return d.pass(fmt.Sprintf("%s (resync %s)", msg, dm.Resync))
}

// checkReconcileResult: the last pass succeeded; degraded means something
// is refused, in conflict or held back.
func checkReconcileResult(doc status.Document) Check {
	d := defReconcileDone
	r := doc.Reconcile
	if r == nil {
		return d.skip("no reconcile pass is known yet (see daemon.reconcile-age)")
	}
	switch r.Result {
	case reconciler.ResultOK:
		return d.pass(fmt.Sprintf("ok: %d table(s), %d created, %d deleted", len(r.Tables), r.Created, r.Deleted))
	case reconciler.ResultDegraded:
		return d.warn("degraded: "+degradedCause(*r), "resolve what is named (see `vpcroute status`): conflicts need the holder removed or a new subnet; held deletions a confirmation that the instance is gone")
	}
	return d.fail("error: "+orNone(r.Error), fmt.Sprintf("see the leader's log (%s) and `vpcroute status`; the next pass retries", r.Leader))
}

// degradedCause lists what made a pass degraded.
func degradedCause(r reconciler.Report) string {
	var parts []string
	for _, c := range r.Conflicts {
		parts = append(parts, "conflict: "+c.Reason)
	}
	for _, c := range r.ClaimConflicts {
		parts = append(parts, fmt.Sprintf("claim conflict: %s of %s overlaps %s of %s", c.Refused.Subnet, c.Refused.Instance, c.Holder.Subnet, c.Holder.Instance))
	}
	for _, rf := range r.Refused {
		parts = append(parts, "refused: "+rf.Reason)
	}
	for _, h := range r.Held {
		parts = append(parts, fmt.Sprintf("held: %s -> %s in %s (%s)", h.Route.Destination, h.Route.Target, h.Route.TableID, h.Reason))
	}
	if len(parts) == 0 {
		return "no detail in the report"
	}
	return strings.Join(parts, "; ")
}

// orNone renders an empty string as "none".
func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
