package reconciler

import (
	"net/netip"
	"time"

	"github.com/vpcroute/vpcroute/cloud"
)

// Host is one host's record in the registry: who it is, where its routes
// point, and the container subnets it claims. The agent on the host writes
// it; the leader turns every record into desired routes.
type Host struct {
	// Instance is the cloud instance ID; it names the record.
	Instance string `json:"instance"`
	// Target is what this host's routes point at.
	Target cloud.Target `json:"target"`
	// PrivateIP is the host's VPC address.
	PrivateIP netip.Addr `json:"privateIp"`
	// Subnets are the host's container subnets with the time the host says
	// it first claimed each. The time is shown, never used to decide: an
	// overlap goes to the claim already routed, else to the host the
	// registry saw first (Order).
	Subnets []Claim `json:"subnets"`
	// HostConfig is "ok" when the host's ip_forward and iptables are as
	// vpcroute wants them, "disabled" when --host-config=false, otherwise
	// the last error.
	HostConfig string `json:"hostConfig"`
	// Version is the agent's vpcroute version.
	Version string `json:"version"`
	// StatusAddr is where the agent serves /status (may be loopback).
	StatusAddr string `json:"statusAddr,omitempty"`
	// LastSeen is when the agent last wrote the record. It is shown, never
	// used to delete anything: a silent agent keeps its routes.
	LastSeen time.Time `json:"lastSeen"`
	// Order is the registry's creation order of the record (etcd create
	// revision). It orders overlapping claims that are not routed yet. Not
	// stored in the record itself.
	Order int64 `json:"-"`
	// Revision is the registry's revision of the record's last write (etcd
	// mod revision). The leader notes when it changes to learn how long a
	// host has been silent without believing the record's LastSeen. Not
	// stored in the record itself.
	Revision int64 `json:"-"`
	// Problem is set by the registry when the record cannot be taken as
	// written (not JSON, too large, naming another instance); Instance is
	// then the one its key names. The leader refuses such a record whole.
	// Not stored in the record itself.
	Problem string `json:"-"`
}

// Claim is one subnet a host claims, and since when the host says it does.
type Claim struct {
	Subnet netip.Prefix `json:"subnet"`
	Since  time.Time    `json:"since"`
}

// SubnetPrefixes returns the claimed subnets.
func (h Host) SubnetPrefixes() []netip.Prefix {
	out := make([]netip.Prefix, 0, len(h.Subnets))
	for _, c := range h.Subnets {
		out = append(out, c.Subnet)
	}
	return out
}
