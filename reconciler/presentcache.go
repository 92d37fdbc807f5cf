package reconciler

import (
	"time"

	"github.com/vpcroute/vpcroute/cloud"
)

// presentCache remembers the refused records whose instance the cloud
// said still exists (GoneTargets did not return it: an instance in another
// VPC, or one not listed in this VPC yet), so that such a record costs no
// GoneTargets call on every pass. It only ever spares a question whose
// answer would forget a record: a record it covers is still refused, and
// creates, moves and deletes nothing.
//
// An answer is asked again after ttl, and at once when the record starts
// stating something new (its target or claims, as claimsKey sees them; a
// heartbeat, which rewrites only LastSeen and the registry revision, is
// nothing new). It is dropped when the record is no longer refused (it was
// accepted, forgotten, or left the registry), so that a record refused
// again is asked about afresh.
type presentCache struct {
	ttl     time.Duration
	entries map[string]presentMark
}

type presentMark struct {
	stated string // the record's claimsKey when the cloud was asked
	at     time.Time
}

func newPresentCache(ttl time.Duration) *presentCache {
	return &presentCache{ttl: ttl, entries: map[string]presentMark{}}
}

// unknown returns those of refused whose instance the cloud must be asked
// about at now: every one without a fresh answer for what its record
// states. hosts are the registry's records, refused among them.
func (c *presentCache) unknown(hosts []Host, refused []RefusedHost, now time.Time) []RefusedHost {
	stated := statedBy(hosts)
	isRefused := make(map[string]bool, len(refused))
	var out []RefusedHost
	for _, r := range refused {
		isRefused[r.Instance] = true
		m, ok := c.entries[r.Instance]
		if !ok || m.stated != stated[r.Instance] || now.Sub(m.at) >= c.ttl {
			out = append(out, r)
		}
	}
	for id := range c.entries {
		if !isRefused[id] {
			delete(c.entries, id)
		}
	}
	return out
}

// note keeps the cloud's answer at now about the refused records that
// were asked about (their instance's target is in asked): present unless
// gone says otherwise. Call it only when the cloud answered: an error
// proves nothing.
func (c *presentCache) note(hosts []Host, refused []RefusedHost, asked []cloud.Target, gone map[cloud.Target]bool, now time.Time) {
	inAsked := make(map[cloud.Target]bool, len(asked))
	for _, t := range asked {
		inAsked[t] = true
	}
	stated := statedBy(hosts)
	for _, r := range refused {
		t := instanceTarget(r.Instance)
		switch {
		case !inAsked[t]:
		case gone[t]:
			delete(c.entries, r.Instance)
		default:
			c.entries[r.Instance] = presentMark{stated: stated[r.Instance], at: now}
		}
	}
}

// statedBy returns what each record states that matters to the plan,
// by instance.
func statedBy(hosts []Host) map[string]string {
	out := make(map[string]string, len(hosts))
	for _, h := range hosts {
		out[h.Instance] = claimsKey([]Host{h})
	}
	return out
}
