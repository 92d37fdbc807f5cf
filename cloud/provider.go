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
	// CreateRoutes creates the routes in table, marked as owned by cluster,
	// and returns once they are usable (Available) or with an error.
	CreateRoutes(ctx context.Context, tableID, cluster string, routes []Route) error
	// DeleteRoutes deletes the routes from table. Implementations re-check
	// ownership against cluster just before sending a delete.
	DeleteRoutes(ctx context.Context, tableID, cluster string, routes []Route) error
	// GoneTargets returns those of targets whose instance the cloud
	// confirms is gone (released, terminated, not found). A target in
	// doubt (stopped, any error) is never returned: deletion depends on it.
	GoneTargets(ctx context.Context, targets []Target) ([]Target, error)
}
