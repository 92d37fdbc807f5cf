package doctor

import (
	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/hostcfg"
	"github.com/vpcroute/vpcroute/reconciler"
	"github.com/vpcroute/vpcroute/reconciler/status"
)

func cloudTarget(id string) cloud.Target { return cloud.Target{Kind: cloud.TargetInstance, ID: id} }

func unownedRoute(dst string, t cloud.Target, name string) cloud.Route {
	return cloud.Route{TableID: "vtb-lab", Destination: pfx(dst), Target: t, Status: cloud.StatusAvailable, Name: name}
}

// chain is an existing chain with the policy ("" for user chains) and rules.
func chain(policy string, lines ...string) hostcfg.ChainRules {
	return hostcfg.ChainRules{Exists: true, Policy: policy, Rules: rules(lines...)}
}

func statusLeaderUnknown() status.LeaderStatus { return status.LeaderStatus{} }

func heldOne() []reconciler.Held {
	return []reconciler.Held{{Route: reconciler.RouteRef{TableID: "vtb-lab", Destination: pfx("10.9.0.0/24"), Target: "Instance/i-old"}, Reason: reconciler.HeldNotGone}}
}
