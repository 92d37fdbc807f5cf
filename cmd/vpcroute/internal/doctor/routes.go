package doctor

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/reconciler"
)

// checkCloud: the provider told who this host is, its VPC and its tables.
func checkCloud(f Facts) Check {
	d := defCloud
	c := f.Cloud
	fix := c.AccessFix
	if fix == "" {
		fix = "check --endpoint, the credentials and that they may read the VPC, its route tables and instances"
	}
	if c.Err != "" {
		return d.fail(c.Err, fix)
	}
	if len(c.TableErrs) > 0 {
		var causes []string
		for _, t := range sortedTableIDs(c.TableErrs) {
			causes = append(causes, fmt.Sprintf("cannot list %s: %s", t, c.TableErrs[t]))
		}
		return d.fail(strings.Join(causes, "; "), fix)
	}
	if len(c.Network.RouteTables) == 0 {
		return d.fail(fmt.Sprintf("%s has no route table vpcroute may manage", c.Network.VPCID),
			"name the tables with --route-table (gateway route tables are skipped)")
	}
	return d.pass(fmt.Sprintf("instance %s (%s) in %s %s, VPC CIDRs %s, managed tables %s", c.Self.ID, c.Self.PrivateIP,
		c.Network.VPCID, c.Self.Region, prefixes(c.Network.CIDRs), strings.Join(c.Network.RouteTables, ", ")))
}

// checkRoutesLocal: every managed table routes each local subnet to this
// host, Available, with no entry vpcroute does not own in the way. It uses
// the plan `vpcroute sync` would make, so doctor and sync agree.
func checkRoutesLocal(f Facts, sc subnetClass) Check {
	d := defRoutesLocal
	switch {
	case f.Cloud.Err != "" || len(f.Cloud.TableErrs) > 0 || len(f.Cloud.Network.RouteTables) == 0:
		return d.skip("the route tables are unknown (see cloud.api)")
	case len(sc.routable) == 0:
		return d.skip("no routable local subnet (see the subnets checks)")
	}
	self := f.Cloud.Self.Target
	var desired []reconciler.Desired
	for _, s := range sc.routable {
		desired = append(desired, reconciler.Desired{Destination: s, Target: self})
	}
	ch := reconciler.Calculate(reconciler.PlanInput{
		Cluster: f.Cluster, ClusterCIDR: f.ClusterCIDR,
		VPCCIDRs: f.Cloud.Network.CIDRs, SubnetCIDRs: f.Cloud.Network.SubnetCIDRs,
		Tables: f.Cloud.Tables, Desired: desired, Scope: []cloud.Target{self},
	})
	fs := routeFindings(f, ch, self, "this host")
	pass := fmt.Sprintf("%s -> %s in %s, owned by cluster %s, Available", prefixes(sc.routable), self, strings.Join(f.Cloud.Network.RouteTables, ", "), f.Cluster)
	if len(sc.colliding) > 0 {
		pass += fmt.Sprintf(" (%s: see subnets.distinct)", prefixes(keys(sc.colliding)))
	}
	return combine(d, fs, pass)
}

// routeFindings turns a plan for one host's routes into findings.
func routeFindings(f Facts, ch reconciler.Changes, target cloud.Target, whose string) []finding {
	var fs []finding
	syncFix := "run `vpcroute sync` on " + whose + " (or start `vpcroute daemon` there; with daemons running, see the daemon checks on any host)"
	for _, r := range ch.Create {
		fs = append(fs, finding{Fail, fmt.Sprintf("no entry for %s in %s: the VPC does not send it to %s", r.Destination, r.TableID, target), syncFix})
	}
	for _, c := range ch.Conflicts {
		h := c.Holder
		switch {
		case c.Kind == reconciler.ConflictShadowed:
			fs = append(fs, finding{Fail,
				fmt.Sprintf("more specific %s -> %s in %s (%s) takes part of %s elsewhere", h.Destination, h.Target, h.TableID, describeEntry(h), c.Desired.Destination),
				fmt.Sprintf("delete %s from %s if it is stale (vpcroute does not own it and will not touch it), or give %s a subnet clear of it", h.Destination, h.TableID, whose)})
		case h.OwnedBy(f.Cluster):
			fs = append(fs, finding{Fail,
				fmt.Sprintf("%s in %s points at %s, another host of cluster %s, not %s", h.Destination, h.TableID, h.Target, f.Cluster, target),
				fmt.Sprintf("if %s is gone, run `vpcroute sync --remove` for it (or let the leader remove it); if it lives, two hosts use %s: give one of them another subnet", h.Target.ID, h.Destination)})
		default:
			fs = append(fs, finding{Fail,
				fmt.Sprintf("%s in %s is held by %s (%s), which vpcroute does not own and will not change", h.Destination, h.TableID, h.Target, describeEntry(h)),
				fmt.Sprintf("delete that entry from %s (console or API) if it is stale, then run `vpcroute sync`; or give %s a subnet nobody routes", h.TableID, whose)})
		}
	}
	for _, r := range ch.InSync {
		switch r.Status {
		case cloud.StatusAvailable:
		case cloud.StatusBlackhole:
			fs = append(fs, finding{Fail, fmt.Sprintf("%s -> %s in %s is a blackhole: its target is gone, the cloud drops the traffic", r.Destination, r.Target, r.TableID),
				fmt.Sprintf("if %s was replaced, run `vpcroute sync` on its successor; if it is gone for good, `vpcroute sync --remove` for it (or let the leader remove it)", whose)})
		default:
			fs = append(fs, finding{Warn, fmt.Sprintf("%s -> %s in %s is %s, not Available: it carries no traffic yet", r.Destination, r.Target, r.TableID, r.Status),
				"wait a few seconds and run doctor again; a route stuck in this state needs the cloud's support"})
		}
	}
	for _, r := range ch.Refused {
		fs = append(fs, finding{Fail, "refused: " + r.Reason, "see the subnets checks"})
	}
	return fs
}

// describeEntry names an entry vpcroute does not own.
func describeEntry(r cloud.Route) string {
	switch {
	case r.System:
		return "a system entry"
	case r.Cluster != "":
		return "vpcroute cluster " + r.Cluster
	case r.Name != "":
		return "entry " + r.Name
	}
	return "an unnamed entry"
}

// checkQuota: each managed table has room; a full table cannot route the
// next host (or this host's next subnet).
func checkQuota(f Facts) Check {
	d := defRoutesQuota
	if f.Cloud.Err != "" || len(f.Cloud.TableErrs) > 0 {
		return d.skip("the route tables are unknown (see cloud.api)")
	}
	lim := f.Cloud.Limit
	known := lim.What != ""
	quota := f.RouteQuota
	if quota == 0 {
		quota = lim.Default
	}
	if quota == 0 {
		return d.skip(fmt.Sprintf("no known route limit for provider %q: pass --route-quota", f.Cloud.Provider))
	}
	what, fix := lim.What, lim.Fix
	if !known {
		what, fix = "routes per table", "raise the tables' route limit with the provider and pass --route-quota, or remove routes nobody uses"
	}
	var fs []finding
	var fine []string
	for _, t := range f.Cloud.Network.RouteTables {
		n := 0
		for _, r := range f.Cloud.Tables[t] {
			if lim.CountSystem || !r.System {
				n++
			}
		}
		pct := n * 100 / quota
		switch {
		case n*10 >= quota*9:
			fs = append(fs, finding{Warn, fmt.Sprintf("%s holds %d of %d %s (%d%%): %d more fit", t, n, quota, what, pct, max(quota-n, 0)), fix})
		default:
			fine = append(fine, fmt.Sprintf("%s holds %d of %d", t, n, quota))
		}
	}
	return combine(d, fs, strings.Join(fine, ", ")+" "+what)
}

// sortedTableIDs returns the map's keys, sorted.
func sortedTableIDs[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return slices.Clip(out)
}
