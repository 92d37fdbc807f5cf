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
	// Subnets are the host's container subnets with the time each was
	// first claimed; the earlier claim wins an overlap.
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
	// revision). It breaks ties between claims made at the same instant.
	// Not stored in the record itself.
	Order int64 `json:"-"`
}

// Claim is one subnet a host claims, and since when.
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
