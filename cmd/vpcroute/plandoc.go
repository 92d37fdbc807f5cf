package main

import (
	"encoding/json"
	"io"
	"net/netip"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/reconciler"
)

// planSchemaVersion names the layout of `vpcroute plan -o json`
// (PLAN_SCHEMA.md). Additive changes keep v1.
const planSchemaVersion = "vpcroute.plan/v1"

// planDocument is what `vpcroute plan -o json` prints: the host's plan
// under a schema version, every list present and [] when empty, so that a
// script never has to tell null from empty.
type planDocument struct {
	SchemaVersion string         `json:"schemaVersion"`
	Cluster       string         `json:"cluster"`
	Remove        bool           `json:"remove"`
	Self          cloud.Instance `json:"self"`
	Network       cloud.Network  `json:"network"`
	Subnets       []netip.Prefix `json:"subnets"`
	Changes       planChanges    `json:"changes"`
}

// planChanges is reconciler.Changes with its lists never nil.
type planChanges struct {
	Create    []cloud.Route         `json:"create"`
	Delete    []cloud.Route         `json:"delete"`
	InSync    []cloud.Route         `json:"inSync"`
	Conflicts []reconciler.Conflict `json:"conflicts"`
	Refused   []reconciler.Refusal  `json:"refused"`
}

// newPlanDocument wraps a host plan for JSON.
func newPlanDocument(cluster string, remove bool, hp reconciler.HostPlan) planDocument {
	n := hp.Network
	n.CIDRs, n.SubnetCIDRs, n.RouteTables = orEmpty(n.CIDRs), orEmpty(n.SubnetCIDRs), orEmpty(n.RouteTables)
	ch := hp.Changes
	return planDocument{
		SchemaVersion: planSchemaVersion, Cluster: cluster, Remove: remove,
		Self: hp.Self, Network: n, Subnets: orEmpty(hp.Subnets),
		Changes: planChanges{Create: orEmpty(ch.Create), Delete: orEmpty(ch.Delete), InSync: orEmpty(ch.InSync),
			Conflicts: orEmpty(ch.Conflicts), Refused: orEmpty(ch.Refused)},
	}
}

// orEmpty returns s, or an empty list for nil: JSON [] rather than null.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// writePlanJSON writes the document indented, one object.
func writePlanJSON(w io.Writer, doc planDocument) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
