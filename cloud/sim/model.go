package sim

import (
	"fmt"
	"hash/fnv"
	"net/netip"
	"slices"
	"time"
)

// Route entry statuses and types as the Alibaba VPC API reports them.
const (
	StatusPending   = "Pending"
	StatusAvailable = "Available"
	StatusModifying = "Modifying"
	StatusDeleting  = "Deleting"

	EntryTypeSystem = "System"
	EntryTypeCustom = "Custom"

	TableTypeSystem = "System"
	TableTypeCustom = "Custom"

	InstanceRunning = "Running"
	InstanceStopped = "Stopped"

	// NextHopInstance is the next hop type vpcroute uses; NextHopLocal marks
	// system entries.
	NextHopInstance = "Instance"
	NextHopLocal    = "local"
)

// cloudServiceRange is the system route every Alibaba VPC table carries.
var cloudServiceRange = netip.MustParsePrefix("100.64.0.0/10")

// nextHopTypes are the next hop types CreateRouteEntry accepts.
var nextHopTypes = []string{
	"Instance", "HaVip", "RouterInterface", "NetworkInterface", "VpnGateway",
	"IPv6Gateway", "NatGateway", "Attachment", "VpcPeer", "Ipv4Gateway",
	"GatewayEndpoint", "CenBasic", "Ecr",
}

// world is the simulated state. It is not safe for concurrent use; Server
// guards it with its mutex.
type world struct {
	provider  string  // the name of d
	d         dialect // how the world's cloud differs
	account   string  // AWS account ID (ownerId)
	region    string
	created   time.Time
	vpcs      []*vpcNet
	vswitches []*vswitch
	tables    []*table
	instances []*instance
	entries   map[string]*entry // by RouteEntryId
	seq       uint64            // last entry sequence number handed out
	enis      []*eni            // AWS network interfaces
}

type vpcNet struct {
	id, name, routerID string
	cidr               netip.Prefix
	secondary          []netip.Prefix
	tags               map[string]string
}

type vswitch struct {
	id, name, zone, vpc string
	cidr                netip.Prefix
	table               string
	tags                map[string]string
}

type table struct {
	id, name, vpc, typ string
	vswitches          []string
	explicit           []string // subnets associated explicitly (AWS associationSet)
	entries            []*entry // in creation order
	tags               map[string]string
}

type entry struct {
	id, table   string
	seq         uint64
	dest        netip.Prefix
	system      bool
	hopType     string
	hopID       string
	name, desc  string
	status      string
	created     time.Time
	modified    time.Time
	gen         uint64 // bumps on every transition so stale timers are ignored
	hold        bool   // status set behind the API's back and kept until changed
	deleteAfter bool   // the transition in flight ends with removal

	// AWS routes: a destination prefix list instead of dest, the target ENI
	// of NetworkInterface and Instance routes, the instance that ENI was
	// last attached to (kept once the ENI is gone, as EC2 keeps it in a
	// blackhole route), and the origin.
	prefixList string
	eni        string
	instRef    string
	origin     string
}

// destKey is what identifies an entry in its table: the CIDR, or on AWS the
// prefix list ID.
func (e *entry) destKey() string {
	if e.prefixList != "" {
		return e.prefixList
	}
	return e.dest.String()
}

type instance struct {
	id, name, vswitch, vpc, ramRole, status, mac string
	ip                                           netip.Addr
	created                                      time.Time
	// AWS only.
	instanceType string
	tags         map[string]string
}

func (w *world) vpc(id string) *vpcNet {
	for _, v := range w.vpcs {
		if v.id == id {
			return v
		}
	}
	return nil
}

func (w *world) vswitch(id string) *vswitch {
	for _, v := range w.vswitches {
		if v.id == id {
			return v
		}
	}
	return nil
}

func (w *world) table(id string) *table {
	for _, t := range w.tables {
		if t.id == id {
			return t
		}
	}
	return nil
}

func (w *world) instance(id string) *instance {
	for _, in := range w.instances {
		if in.id == id {
			return in
		}
	}
	return nil
}

// tablesOf returns the route tables of a VPC.
func (w *world) tablesOf(vpcID string) []*table {
	var out []*table
	for _, t := range w.tables {
		if t.vpc == vpcID {
			out = append(out, t)
		}
	}
	return out
}

// vswitchesOf returns the vswitches of a VPC.
func (w *world) vswitchesOf(vpcID string) []*vswitch {
	var out []*vswitch
	for _, v := range w.vswitches {
		if v.vpc == vpcID {
			out = append(out, v)
		}
	}
	return out
}

// newEntry appends an entry to a table and indexes it.
func (w *world) newEntry(t *table, e *entry) *entry {
	w.seq++
	e.seq = w.seq
	e.id = fmt.Sprintf("rte-sim%012d", w.seq)
	e.table = t.id
	if e.modified.IsZero() {
		e.modified = e.created
	}
	t.entries = append(t.entries, e)
	w.entries[e.id] = e
	return e
}

// removeEntry drops an entry from its table and the index.
func (w *world) removeEntry(e *entry) {
	if t := w.table(e.table); t != nil {
		t.entries = slices.DeleteFunc(t.entries, func(x *entry) bool { return x == e })
	}
	delete(w.entries, e.id)
	e.gen++ // a timer still in flight for it must not resurrect it
}

// entryByDest finds the entry of a table with the given destination CIDR.
func (t *table) entryByDest(dest netip.Prefix) *entry {
	for _, e := range t.entries {
		if e.prefixList == "" && e.dest == dest {
			return e
		}
	}
	return nil
}

// entryByPrefixList finds the AWS route of a table with the given
// destination prefix list.
func (t *table) entryByPrefixList(pl string) *entry {
	for _, e := range t.entries {
		if e.prefixList != "" && e.prefixList == pl {
			return e
		}
	}
	return nil
}

// customCount is the number of custom entries, the unit of the quota.
func (t *table) customCount() int {
	n := 0
	for _, e := range t.entries {
		if !e.system {
			n++
		}
	}
	return n
}

// busy reports whether any entry of the VPC is in a transient state, which
// makes the real API refuse another route change in that VPC.
func (w *world) busy(vpcID string) *entry {
	if !w.d.transitions() {
		return nil // changes take effect at once
	}
	for _, t := range w.tablesOf(vpcID) {
		for _, e := range t.entries {
			if e.status != StatusAvailable {
				return e
			}
		}
	}
	return nil
}

// contains reports whether the VPC's primary or secondary ranges hold p.
func (v *vpcNet) contains(p netip.Prefix) bool {
	for _, c := range append([]netip.Prefix{v.cidr}, v.secondary...) {
		if c.Bits() <= p.Bits() && c.Contains(p.Addr()) {
			return true
		}
	}
	return false
}

// defaultMAC derives a stable Alibaba-looking MAC (00:16:3e prefix) from an
// instance ID so the metadata service has something to answer.
func defaultMAC(id string) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(id)) // hash.Hash writes never fail
	s := h.Sum32()
	return fmt.Sprintf("00:16:3e:%02x:%02x:%02x", byte(s>>16), byte(s>>8), byte(s))
}
