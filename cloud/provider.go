package cloud

import (
	"context"
	"net/netip"
)

// Instance is the identity of the host vpcroute runs on.
type Instance struct {
	ID        string     `json:"id"`
	Region    string     `json:"region"`
	VPCID     string     `json:"vpcId"`
	PrivateIP netip.Addr `json:"privateIp"`
	// Target is what this host's routes point at (its instance on Alibaba
	// Cloud, its primary ENI on AWS).
	Target Target `json:"target"`
}

// Network describes the VPC the host lives in.
type Network struct {
	VPCID string `json:"vpcId"`
	// CIDRs are the VPC's address ranges (primary and secondary).
	CIDRs []netip.Prefix `json:"cidrs"`
	// SubnetCIDRs are the vswitch (Alibaba) or subnet (AWS) ranges.
	SubnetCIDRs []netip.Prefix `json:"subnetCidrs"`
	// RouteTables are the managed route table IDs.
	RouteTables []string `json:"routeTables"`
}

// Provider is the narrow view of a cloud that the reconciler needs. Every
// method may block on the network; ctx bounds it.
type Provider interface {
	// Name is the provider's name ("aliyun", "aws").
	Name() string
	// Self returns this host's identity.
	Self(ctx context.Context) (Instance, error)
	// Network returns the VPC's ranges and the managed route tables.
	Network(ctx context.Context) (Network, error)
	// Routes lists every entry of a route table, ownership marks parsed.
	Routes(ctx context.Context, tableID string) ([]Route, error)
	// CreateRoutes creates the routes in table, marked as owned by the
	// provider's cluster (Settings.Cluster), and returns once they are
	// usable (Available) or with an error.
	CreateRoutes(ctx context.Context, tableID string, routes []Route) error
	// DeleteRoutes deletes the routes from table. Implementations re-check
	// ownership by the provider's cluster just before sending a delete.
	DeleteRoutes(ctx context.Context, tableID string, routes []Route) error
	// GoneTargets returns those of targets whose instance the cloud
	// confirms is gone (released, terminated, not found). A target in
	// doubt (stopped, any error) is never returned: deletion depends on it.
	GoneTargets(ctx context.Context, targets []Target) ([]Target, error)
	// InstanceTargets says, from the cloud's own records, where routes to
	// each instance of claims must point. claims maps instance IDs to the
	// target their host says; the answer is that target when the cloud
	// says it belongs to the instance (on AWS, an ENI attached to it),
	// else the instance's default (the instance itself on Alibaba Cloud,
	// its primary ENI on AWS). Only instances the cloud lists in this
	// host's VPC and not terminated are in the answer; an absent one is
	// unknown, gone or in another VPC. The leader derives every host's
	// target from it, so that a host record never decides where a route
	// points. On an error nothing is returned.
	InstanceTargets(ctx context.Context, claims map[string]Target) (map[string]Target, error)
}

// Replacer is implemented by providers that can move a route to another
// target in one atomic call (EC2 ReplaceRoute). The reconciler uses it
// instead of a deletion followed by a creation, which would leave the
// destination unrouted in between.
type Replacer interface {
	// ReplaceRoutes points each route's destination, already held in
	// table by an entry the provider's cluster owns, at the route's target.
	ReplaceRoutes(ctx context.Context, tableID string, routes []Route) error
}

// HostPreparer is implemented by providers that need something done for
// this host's instance before routes to it carry traffic (EC2: turn the
// ENI's source/destination check off and mark the ENI as the cluster's).
// It must be idempotent and cheap when nothing is left to do.
type HostPreparer interface {
	// PrepareHost readies this host's instance for the provider's cluster.
	PrepareHost(ctx context.Context) error
}

// SourceDestChecker is implemented by providers whose instances forward
// only with a source/destination check off (EC2): doctor asks it, and its
// cloud.source-dest-check check appears in the report. Alibaba Cloud has
// no such check, so the Alibaba provider does not implement it.
type SourceDestChecker interface {
	// SourceDestCheck reports whether the check is on for this host's
	// network interface, and which interface that is.
	SourceDestCheck(ctx context.Context) (iface string, on bool, err error)
}
