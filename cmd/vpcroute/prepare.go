package main

import (
	"context"
	"fmt"

	"go.uber.org/zap"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/hostcfg"
	"github.com/vpcroute/vpcroute/reconciler"
)

// prepared is what sync and plan share: this host's subnets, the provider
// and the plan. Preparing reads and changes nothing.
type prepared struct {
	provider cloud.Provider
	plan     reconciler.HostPlan
}

// prepare discovers the local subnets, connects to the cloud and plans. Any
// error here means nothing was changed.
func prepare(ctx context.Context, o *options, p parsed, log *zap.Logger) (prepared, error) {
	var out prepared
	subnets := p.subnets
	if len(subnets) == 0 && !o.Remove {
		found, err := hostcfg.DiscoverSubnets(ctx, o.DockerHost, o.Networks)
		if err != nil {
			return out, err
		}
		subnets = found
		log.Info("discovered local subnets", zap.Stringers("subnets", subnets))
	}
	prov, err := newProvider(ctx, o, p, log)
	if err != nil {
		return out, err
	}
	plan, err := reconciler.PlanHost(ctx, prov, reconciler.HostOptions{
		Cluster: o.ClusterName, ClusterCIDR: p.clusterCIDR, Policy: p.policy, Remove: o.Remove,
		AllowCarveOut: o.AllowCarveOut,
	}, subnets)
	if err != nil {
		return out, err
	}
	// The VPC's CIDRs are known now: a cluster CIDR inside them is bad
	// input, refused before anything is changed.
	if err := reconciler.ValidateClusterCIDR(p.clusterCIDR, plan.Network.CIDRs); err != nil {
		return out, usageError{err}
	}
	// A subnet that must not be routed is bad input: stop before anything
	// is changed on the host or in the cloud.
	if len(plan.Changes.Refused) > 0 {
		return out, usageError{fmt.Errorf("refusing to route: %s", plan.Changes.Refused[0].Reason)}
	}
	out.provider, out.plan = prov, plan
	return out, nil
}

// hostOptions are the host configuration the options give, for sync and
// the daemon; the caller adds the subnets and the VPC's CIDRs.
func hostOptions(o *options, p parsed) hostcfg.Options {
	return hostcfg.Options{
		Cluster: o.ClusterName, ClusterCIDR: p.clusterCIDR,
		ForwardPolicyAccept: p.forwardAll, ProcSys: o.ProcSys, StateDir: o.StateDir,
	}
}
