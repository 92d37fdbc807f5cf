// Package status is what an operator sees of a running vpcroute daemon: the
// versioned /status document, the Prometheus metrics, the HTTP endpoints
// serving both (plus /healthz and /readyz), a client for them, and the text
// rendering of `vpcroute status`.
//
// The package only shapes and serves state; the daemon fills it. It does no
// cloud or registry I/O of its own.
package status

import (
	"net/netip"
	"time"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/reconciler"
)

// SchemaVersion names the layout of Document. Additive changes (a new
// field, a new enum value in a documented open set) keep "v1"; removing,
// renaming or changing the meaning of a field makes "vpcroute.status/v2".
// Readers reject a major version they do not know (see SCHEMA.md).
const SchemaVersion = "vpcroute.status/v1"

// Modes of a daemon.
const (
	// ModeCluster: registry and election on etcd; the leader reconciles
	// every registered host's routes.
	ModeCluster = "cluster"
	// ModeSelf: no etcd; the daemon keeps only its own host's routes.
	ModeSelf = "self"
)

// Host configuration states (HostConfigStatus.State).
const (
	// HostConfigOK: ip_forward and vpcroute's iptables chains are as wanted.
	HostConfigOK = "ok"
	// HostConfigDrift: the last check found differences (listed in Drift)
	// that the next apply repairs.
	HostConfigDrift = "drift"
	// HostConfigError: the last apply failed; Error says why.
	HostConfigError = "error"
	// HostConfigDisabled: --host-config=false, another tool owns it.
	HostConfigDisabled = "disabled"
	// HostConfigWaiting: the VPC's CIDRs are not known yet (the cloud API
	// is unreachable, nothing was saved and --vpc-cidr is not given): the
	// rules that accept VPC traffic cannot be written.
	HostConfigWaiting = "waiting"
)

// Document is the body of GET /status: this host, the cluster as this host
// sees it, and the last reconcile pass. SCHEMA.md describes every field;
// keep both in step.
//
// Lists are always present (empty, never null) in a served document;
// optional scalars are left out when unset.
type Document struct {
	// SchemaVersion is always SchemaVersion; readers check its major.
	SchemaVersion string `json:"schemaVersion"`
	// Generated is when the serving daemon built this document; ages in
	// the rendering are relative to it.
	Generated time.Time `json:"generated"`
	// Version is the serving daemon's vpcroute version.
	Version string `json:"version"`
	// Cluster is the cluster name, the ownership mark of its routes.
	Cluster string `json:"cluster"`
	// Mode is ModeCluster or ModeSelf.
	Mode string `json:"mode"`
	// Host is the serving daemon's own host.
	Host HostStatus `json:"host"`
	// Leader is who reconciles the route tables.
	Leader LeaderStatus `json:"leader"`
	// Hosts are the registered hosts' records, sorted by instance. In self
	// mode: only this host's own record.
	Hosts []reconciler.Host `json:"hosts"`
	// Reconcile is the last reconcile pass: the leader's (followers read it
	// from the registry), or this daemon's own in self mode. Absent until
	// a first pass is known.
	Reconcile *reconciler.Report `json:"reconcile,omitempty"`
	// LastSuccess is when the last pass that completed (result ok or
	// degraded, see Succeeded) ended. Absent if none is known.
	LastSuccess time.Time `json:"lastSuccess,omitzero"`
	// API counts this process's cloud API calls by action and outcome
	// since it started, sorted by action then outcome.
	API []APICallCount `json:"api"`
	// Errors are this process's recent errors, newest first, at most
	// MaxErrors.
	Errors []ErrorEntry `json:"errors"`
	// Loops are this process's watched loops with their last beat, the
	// stuck ones first (see Heartbeat.Loops). Absent in documents of
	// daemons older than the field: readers treat that as unknown.
	Loops []LoopStatus `json:"loops"`
	// Dependencies are Docker, the cloud API and etcd as this daemon last
	// reached them, each with the time its state last changed.
	Dependencies []Dependency `json:"dependencies"`
}

// HostStatus is the serving daemon's own host.
type HostStatus struct {
	// Instance is the cloud instance ID.
	Instance string `json:"instance"`
	// Target is what this host's routes point at.
	Target cloud.Target `json:"target"`
	// PrivateIP is the host's VPC address.
	PrivateIP netip.Addr `json:"privateIp"`
	// Subnets are the container subnets this host claims, sorted.
	Subnets []netip.Prefix `json:"subnets"`
	// HostConfig is the state of ip_forward and vpcroute's iptables chains.
	HostConfig HostConfigStatus `json:"hostConfig"`
	// Registered is true while this host's record is in the registry (in
	// self mode: always true, the daemon is its own registry).
	Registered bool `json:"registered"`
	// ClaimConflicts are the claim conflicts of the last pass that involve
	// this host, as the refused or as the holding claim.
	ClaimConflicts []reconciler.ClaimConflict `json:"claimConflicts"`
	// RecordRefused is why the leader's last pass refused this host's
	// record (none of its claims is routed), or empty.
	RecordRefused string `json:"recordRefused,omitempty"`
	// BIPMismatch says why the bip Docker's daemon.json sets (vpcroute
	// allocate) is not the subnet Docker runs (Docker not restarted since),
	// or is empty.
	BIPMismatch string `json:"bipMismatch,omitempty"`
}

// HostConfigStatus is the state of the host's own configuration.
type HostConfigStatus struct {
	// State is one of the HostConfig* constants; empty until the first
	// apply has finished.
	State string `json:"state"`
	// LastApplied is when the last apply or check finished.
	LastApplied time.Time `json:"lastApplied,omitzero"`
	// LastChange is when an apply last had to change something.
	LastChange time.Time `json:"lastChange,omitzero"`
	// Error is the last apply's error, for State "error".
	Error string `json:"error,omitempty"`
	// Drift lists what the last check found out of place, one line each,
	// for State "drift".
	Drift []string `json:"drift"`
}

// LeaderStatus names the reconciling leader.
type LeaderStatus struct {
	// Instance is the leader's instance ID; empty when not Known.
	Instance string `json:"instance"`
	// StatusAddr is where the leader serves /status, if it published it.
	StatusAddr string `json:"statusAddr,omitempty"`
	// IsSelf is true when the serving daemon is the leader (always in self
	// mode).
	IsSelf bool `json:"isSelf"`
	// Known is false while no leader is elected or the registry is
	// unreachable.
	Known bool `json:"known"`
}

// APICallCount is the number of cloud API calls with one action and outcome.
type APICallCount struct {
	// Action is the provider's API action, e.g. "CreateRouteEntry".
	Action string `json:"action"`
	// Outcome is one of cloud.Outcome*: ok, throttled, busy, error.
	Outcome string `json:"outcome"`
	// Count is the number of calls, retries included.
	Count int64 `json:"count"`
}

// ErrorEntry is one recent error.
type ErrorEntry struct {
	// Time is when the error last happened.
	Time time.Time `json:"time"`
	// Component is the part of the daemon that saw it: "hostcfg",
	// "registry", "reconciler", "docker", ...
	Component string `json:"component"`
	// Message is the error, on one line.
	Message string `json:"message"`
	// Count is how many times in a row the same component reported the
	// same message (at least 1); Time is the latest.
	Count int `json:"count"`
}

// Succeeded reports whether a pass counts as a success for LastSuccess and
// vpcroute_reconcile_last_success_timestamp_seconds: it completed (ok or
// degraded). A degraded pass still kept every other route true; its
// conflicts and held deletes are reported on their own.
func Succeeded(r reconciler.Report) bool {
	return r.Result == reconciler.ResultOK || r.Result == reconciler.ResultDegraded
}

// RecordRefusedOf returns why the report refused instance's record, or "".
func RecordRefusedOf(instance string, refused []reconciler.RefusedHost) string {
	for _, r := range refused {
		if r.Instance == instance {
			return r.Reason
		}
	}
	return ""
}

// ClaimConflictsOf returns the conflicts in which instance is the refused or
// the holding host, for HostStatus.ClaimConflicts.
func ClaimConflictsOf(instance string, all []reconciler.ClaimConflict) []reconciler.ClaimConflict {
	out := []reconciler.ClaimConflict{}
	for _, c := range all {
		if c.Refused.Instance == instance || c.Holder.Instance == instance {
			out = append(out, c)
		}
	}
	return out
}

// normalized returns a copy of d ready to serve: the schema version set and
// every list non-nil, so scripts never see null where a list belongs. The
// caller's slices and report are not modified.
func (d Document) normalized() Document {
	d.SchemaVersion = SchemaVersion
	d.Host.Subnets = nonNil(d.Host.Subnets)
	d.Host.ClaimConflicts = nonNil(d.Host.ClaimConflicts)
	d.Host.HostConfig.Drift = nonNil(d.Host.HostConfig.Drift)
	d.API = nonNil(d.API)
	d.Errors = nonNil(d.Errors)
	d.Loops = nonNil(d.Loops)
	d.Dependencies = nonNil(d.Dependencies)
	hosts := make([]reconciler.Host, len(d.Hosts))
	for i, h := range d.Hosts {
		h.Subnets = nonNil(h.Subnets)
		hosts[i] = h
	}
	d.Hosts = hosts
	if d.Reconcile != nil {
		r := *d.Reconcile
		r.Tables = nonNil(r.Tables)
		r.ClaimConflicts = nonNil(r.ClaimConflicts)
		r.Conflicts = nonNil(r.Conflicts)
		r.Refused = nonNil(r.Refused)
		r.Held = nonNil(r.Held)
		r.RefusedHosts = nonNil(r.RefusedHosts)
		d.Reconcile = &r
	}
	return d
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
