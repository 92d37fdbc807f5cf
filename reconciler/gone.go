package reconciler

import (
	"net/netip"
	"slices"
	"time"

	"github.com/vpcroute/vpcroute/cloud"
)

// GoneCheck returns the targets whose existence deletion depends on, to
// ask the cloud about: accepted hosts silent for too long, targets of
// stale owned routes that no accepted host holds, targets of blackhole
// routes (the cloud saying the target is gone, on EC2), and the instances
// of refused records the cloud did not list (a record of a released
// instance, or one that never existed, is forgotten once the cloud says
// so). A refused record whose instance could not be verified is not asked
// about: the cloud is not answering.
func GoneCheck(accepted []Host, refused []RefusedHost, checks map[string]InstanceCheck, silent map[string]bool, ch Changes) []cloud.Target {
	var out []cloud.Target
	add := func(t cloud.Target) {
		if t.ID != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	registered := registeredTargets(accepted)
	for _, h := range accepted {
		if silent[h.Instance] {
			add(h.Target)
		}
	}
	for _, d := range ch.Delete {
		if !registered[d.Target] {
			add(d.Target)
		}
	}
	for _, r := range ch.InSync {
		if r.Status == cloud.StatusBlackhole {
			add(r.Target)
		}
	}
	for _, r := range refused {
		if c, asked := checks[r.Instance]; !asked || c.Listed || c.Err != "" {
			continue
		}
		add(instanceTarget(r.Instance))
	}
	return out
}

// ForgetGone takes out of accepted the hosts whose target the cloud
// confirmed gone, and returns them with the refused records whose instance
// is gone, as the records to forget.
func ForgetGone(accepted []Host, refused []RefusedHost, gone map[cloud.Target]bool) (live []Host, forget []string) {
	for _, h := range accepted {
		if gone[h.Target] {
			forget = append(forget, h.Instance)
			continue
		}
		live = append(live, h)
	}
	for _, r := range refused {
		if gone[instanceTarget(r.Instance)] {
			forget = append(forget, r.Instance)
		}
	}
	return live, forget
}

func instanceTarget(instance string) cloud.Target {
	return cloud.Target{Kind: cloud.TargetInstance, ID: instance}
}

// registeredTargets returns the set of accepted hosts' targets: the hosts
// that are the authority on their own routes.
func registeredTargets(hosts []Host) map[cloud.Target]bool {
	out := make(map[cloud.Target]bool, len(hosts))
	for _, h := range hosts {
		if h.Target.ID != "" {
			out[h.Target] = true
		}
	}
	return out
}

// ownedCount counts the entries the cluster owns inside its CIDR, across
// all tables: the mass-delete guard's measure.
func ownedCount(tables map[string][]cloud.Route, cluster string, clusterCIDR netip.Prefix) int {
	owned := 0
	for _, entries := range tables {
		for _, e := range entries {
			if e.OwnedBy(cluster) && cloud.PrefixContains(clusterCIDR, e.Destination) {
				owned++
			}
		}
	}
	return owned
}

// silenceClock tracks when each host's record last changed in the
// registry, by the leader's own clock. A record's LastSeen is the host's
// word and is not believed; a change of the record's registry revision is
// what the leader saw.
type silenceClock map[string]silenceMark

type silenceMark struct {
	revision int64
	at       time.Time
}

// note records hosts' revisions at now and returns the instances whose
// record has not changed for longer than after. A host the leader sees for
// the first time is fresh.
func (s silenceClock) note(hosts []Host, now time.Time, after time.Duration) map[string]bool {
	silent := map[string]bool{}
	present := make(map[string]bool, len(hosts))
	for _, h := range hosts {
		present[h.Instance] = true
		m, ok := s[h.Instance]
		if !ok || m.revision != h.Revision {
			s[h.Instance] = silenceMark{revision: h.Revision, at: now}
			continue
		}
		if now.Sub(m.at) > after {
			silent[h.Instance] = true
		}
	}
	for id := range s {
		if !present[id] {
			delete(s, id)
		}
	}
	return silent
}
