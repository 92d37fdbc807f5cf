package reconciler

import (
	"net/netip"
	"time"
)

// Results of a reconcile pass.
const (
	// ResultOK: every desired route is in place and nothing failed.
	ResultOK = "ok"
	// ResultDegraded: the pass completed but something was refused, is in
	// conflict or was held back (mass-delete guard).
	ResultDegraded = "degraded"
	// ResultError: a read or write failed; the next pass retries.
	ResultError = "error"
)

// Report is what one reconcile pass saw and did. The leader publishes it
// so that every host's status shows the cluster's state.
type Report struct {
	// Leader is the instance that ran the pass.
	Leader string `json:"leader"`
	// Trigger says why the pass ran: "registry", "resync", "start".
	Trigger string `json:"trigger"`
	// Started and Duration time the pass.
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"durationNs"`
	// Result is one of the Result* constants; Error is set for ResultError.
	Result string `json:"result"`
	Error  string `json:"error,omitempty"`
	// Tables has one entry per managed route table, sorted by ID.
	Tables []TableReport `json:"tables"`
	// Created and Deleted count the changes sent in this pass.
	Created int `json:"created"`
	Deleted int `json:"deleted"`
	// RefusedHosts are host records the leader did not believe (unreadable,
	// too many claims, instance not listed by the cloud, stated target not
	// the cloud's); none of their claims changed anything.
	RefusedHosts []RefusedHost `json:"refusedHosts"`
	// ClaimConflicts are overlapping subnet claims between hosts; the claim
	// not routed yet (else the one registered later) is refused.
	ClaimConflicts []ClaimConflict `json:"claimConflicts"`
	// Conflicts are desired routes blocked or shadowed by table entries.
	Conflicts []Conflict `json:"conflicts"`
	// Refused are desired routes the plan will not write (outside the
	// cluster CIDR, overlapping the VPC, ...).
	Refused []Refusal `json:"refused"`
	// Held are deletions not sent, with the reason (instance not confirmed
	// gone, mass-delete guard).
	Held []Held `json:"held"`
}

// TableReport counts one table's routes for this cluster.
type TableReport struct {
	ID string `json:"id"`
	// Desired routes for this table; Actual owned entries found; Pending
	// owned entries not yet Available; Conflicts blocking this table.
	Desired   int `json:"desired"`
	Actual    int `json:"actual"`
	Pending   int `json:"pending"`
	Conflicts int `json:"conflicts"`
	// Entries is the table's total entry count (for the quota).
	Entries int `json:"entries"`
}

// ClaimConflict is a subnet claimed by a host while an earlier claim of an
// overlapping subnet by another host stands.
type ClaimConflict struct {
	// Refused is the later claim, not routed.
	Refused ClaimRef `json:"refused"`
	// Holder is the earlier claim, routed.
	Holder ClaimRef `json:"holder"`
}

// ClaimRef names one host's claim of one subnet.
type ClaimRef struct {
	Instance string       `json:"instance"`
	Subnet   netip.Prefix `json:"subnet"`
}

// Held reasons.
const (
	// HeldNotGone: the route's target is not registered, but the cloud does
	// not confirm its instance is gone. A silent agent keeps its routes.
	HeldNotGone = "instance-not-confirmed-gone"
	// HeldMassDelete: the pass would delete more than the guard allows.
	HeldMassDelete = "mass-delete-guard"
)

// Held is a stale-looking owned route that was not deleted, and why.
type Held struct {
	Route  RouteRef `json:"route"`
	Reason string   `json:"reason"`
}

// RouteRef names one table entry.
type RouteRef struct {
	TableID     string       `json:"tableId"`
	Destination netip.Prefix `json:"destination"`
	Target      string       `json:"target"`
}
