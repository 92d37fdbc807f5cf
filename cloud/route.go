// Package cloud holds the provider interface and the types shared by every
// provider, the reconciler and the simulator. It imports no SDK.
package cloud

import (
	"fmt"
	"net/netip"
)

// Route statuses as the reconciler understands them. Providers map their own
// vocabulary onto these.
const (
	StatusAvailable = "Available"
	StatusPending   = "Pending"
	StatusModifying = "Modifying"
	StatusDeleting  = "Deleting"
	StatusBlackhole = "Blackhole"
)

// Target kinds. Alibaba routes point at an instance; AWS routes at an ENI.
const (
	TargetInstance         = "Instance"
	TargetNetworkInterface = "NetworkInterface"
)

// Target is a route's next hop: a kind and the provider's identifier.
type Target struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
}

// String renders the target as "Kind/ID".
func (t Target) String() string {
	if t.Kind == "" {
		return t.ID
	}
	return t.Kind + "/" + t.ID
}

// Route is one entry of a VPC route table.
type Route struct {
	// TableID is the route table holding the entry.
	TableID string `json:"tableId"`
	// ID is the provider's identifier of the entry, if it has one.
	ID string `json:"id,omitempty"`
	// Destination is the destination CIDR block.
	Destination netip.Prefix `json:"destination"`
	// Target is the next hop.
	Target Target `json:"target"`
	// Status is one of the Status* constants (or the provider's own word).
	Status string `json:"status,omitempty"`
	// Cluster is the vpcroute cluster owning the entry; empty when the
	// entry is not vpcroute's. Providers fill it from their ownership marks.
	Cluster string `json:"cluster,omitempty"`
	// Name and Description are the provider's free-text fields, if any.
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
	// System is true for entries the cloud manages itself (vswitch routes).
	System bool `json:"system,omitempty"`
}

// String renders the route as "dest -> target in table".
func (r Route) String() string {
	return fmt.Sprintf("%s -> %s in %s", r.Destination, r.Target, r.TableID)
}

// OwnedBy reports whether the entry carries the ownership mark of cluster.
func (r Route) OwnedBy(cluster string) bool {
	return cluster != "" && r.Cluster == cluster
}
