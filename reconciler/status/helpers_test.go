package status

import (
	"net/netip"
	"time"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/reconciler"
)

// t0 is the fixtures' "now": every document is generated at t0.
var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func inst(id string) cloud.Target { return cloud.Target{Kind: cloud.TargetInstance, ID: id} }

func claim(p string, since time.Time) reconciler.Claim {
	return reconciler.Claim{Subnet: netip.MustParsePrefix(p), Since: since}
}

// clusterDocument is a follower's view of a three-host cluster with one
// refused claim, a held delete, a shadowing entry and some errors.
func clusterDocument() Document {
	conflict := reconciler.ClaimConflict{
		Refused: reconciler.ClaimRef{Instance: "i-ccc", Subnet: netip.MustParsePrefix("10.1.0.0/25")},
		Holder:  reconciler.ClaimRef{Instance: "i-bbb", Subnet: netip.MustParsePrefix("10.1.0.0/24")},
	}
	return Document{
		SchemaVersion: SchemaVersion,
		Generated:     t0,
		Version:       "1.4.0",
		Cluster:       "prod",
		Mode:          ModeCluster,
		Host: HostStatus{
			Instance:  "i-ccc",
			Target:    inst("i-ccc"),
			PrivateIP: netip.MustParseAddr("192.168.1.198"),
			Subnets:   []netip.Prefix{netip.MustParsePrefix("10.1.0.0/25")},
			HostConfig: HostConfigStatus{
				State:       HostConfigDrift,
				LastApplied: t0.Add(-12 * time.Second),
				LastChange:  t0.Add(-2 * time.Hour),
				Drift:       []string{"filter VPCROUTE-FORWARD: jump from DOCKER-USER missing"},
			},
			Registered:     true,
			ClaimConflicts: []reconciler.ClaimConflict{conflict},
		},
		Leader: LeaderStatus{Instance: "i-aaa", StatusAddr: "192.168.1.196:9712", Known: true},
		Hosts: []reconciler.Host{
			{Instance: "i-aaa", Target: inst("i-aaa"), PrivateIP: netip.MustParseAddr("192.168.1.196"),
				Subnets:    []reconciler.Claim{claim("10.0.0.0/24", t0.Add(-48*time.Hour))},
				HostConfig: "ok", Version: "1.4.0", StatusAddr: "192.168.1.196:9712", LastSeen: t0.Add(-3 * time.Second)},
			{Instance: "i-bbb", Target: inst("i-bbb"), PrivateIP: netip.MustParseAddr("192.168.1.197"),
				Subnets:    []reconciler.Claim{claim("10.1.0.0/24", t0.Add(-47*time.Hour)), claim("10.5.0.0/24", t0.Add(-1*time.Hour))},
				HostConfig: "ok", Version: "1.4.0", LastSeen: t0.Add(-75 * time.Second)},
			{Instance: "i-ccc", Target: inst("i-ccc"), PrivateIP: netip.MustParseAddr("192.168.1.198"),
				Subnets:    []reconciler.Claim{claim("10.1.0.0/25", t0.Add(-10*time.Minute))},
				HostConfig: "iptables: exit status 4", Version: "1.3.9", LastSeen: t0.Add(-26 * time.Hour)},
		},
		Reconcile: &reconciler.Report{
			Leader:   "i-aaa",
			Trigger:  "registry",
			Started:  t0.Add(-2*time.Minute - 1520*time.Millisecond),
			Duration: 1520 * time.Millisecond,
			Result:   reconciler.ResultDegraded,
			Tables: []reconciler.TableReport{
				{ID: "vtb-main", Desired: 3, Actual: 3, Pending: 1, Conflicts: 0, Entries: 7},
				{ID: "vtb-spare", Desired: 3, Actual: 2, Pending: 0, Conflicts: 1, Entries: 4},
			},
			Created:        1,
			Deleted:        0,
			ClaimConflicts: []reconciler.ClaimConflict{conflict},
			Conflicts: []reconciler.Conflict{{
				Kind:    reconciler.ConflictOccupied,
				Desired: reconciler.Desired{Destination: netip.MustParsePrefix("10.5.0.0/24"), Target: inst("i-bbb")},
				Holder:  cloud.Route{TableID: "vtb-spare", Destination: netip.MustParsePrefix("10.5.0.0/24"), Target: cloud.Target{Kind: "VpnGateway", ID: "vpn-1"}},
				Reason:  "10.5.0.0/24 in vtb-spare is held by VpnGateway/vpn-1 (hand-made), which vpcroute does not own and will not change",
			}},
			Refused: []reconciler.Refusal{},
			Held: []reconciler.Held{{
				Route:  reconciler.RouteRef{TableID: "vtb-main", Destination: netip.MustParsePrefix("10.9.0.0/24"), Target: "Instance/i-zzz"},
				Reason: reconciler.HeldNotGone,
			}},
		},
		LastSuccess: t0.Add(-2 * time.Minute),
		API: []APICallCount{
			{Action: "DescribeRouteEntryList", Outcome: cloud.OutcomeOK, Count: 40},
			{Action: "DescribeRouteEntryList", Outcome: cloud.OutcomeThrottled, Count: 2},
			{Action: "DescribeVpcs", Outcome: cloud.OutcomeOK, Count: 1},
		},
		Errors: []ErrorEntry{
			{Time: t0.Add(-30 * time.Second), Component: "hostcfg", Message: "iptables: exit status 4: Another app is currently holding the xtables lock", Count: 3},
			{Time: t0.Add(-90 * time.Minute), Component: "registry", Message: "etcd: context deadline exceeded", Count: 1},
		},
		Loops: []LoopStatus{
			{Name: "agent", LastBeat: t0.Add(-12 * time.Second), Allowance: 90 * time.Second},
			{Name: "election", LastBeat: t0.Add(-4 * time.Second), Allowance: 40 * time.Second},
			{Name: "registry", LastBeat: t0.Add(-1 * time.Second), Allowance: 90 * time.Second},
		},
	}
}

// selfDocument is a fresh self-mode daemon: leader of itself, no pass yet.
func selfDocument() Document {
	return Document{
		SchemaVersion: SchemaVersion,
		Generated:     t0,
		Version:       "1.4.0",
		Cluster:       "default",
		Mode:          ModeSelf,
		Host: HostStatus{
			Instance:   "i-aaa",
			Target:     inst("i-aaa"),
			PrivateIP:  netip.MustParseAddr("192.168.1.196"),
			Subnets:    []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24")},
			HostConfig: HostConfigStatus{State: HostConfigOK, LastApplied: t0.Add(-1 * time.Second), LastChange: t0.Add(-1 * time.Second)},
			Registered: true,
		},
		Leader: LeaderStatus{Instance: "i-aaa", IsSelf: true, Known: true},
		Hosts: []reconciler.Host{{Instance: "i-aaa", Target: inst("i-aaa"), PrivateIP: netip.MustParseAddr("192.168.1.196"),
			Subnets: []reconciler.Claim{claim("10.0.0.0/24", t0.Add(-time.Minute))}, HostConfig: "ok", Version: "1.4.0", LastSeen: t0}},
		Loops: []LoopStatus{
			{Name: "agent", LastBeat: t0.Add(-1 * time.Second), Allowance: 90 * time.Second},
			{Name: "reconciler", LastBeat: t0, Allowance: 3 * time.Minute},
		},
	}
}

// failingDocument is a leader whose last pass failed and whose registry
// is gone; the host config is in error.
func failingDocument() Document {
	return Document{
		SchemaVersion: SchemaVersion,
		Generated:     t0,
		Version:       "1.4.0",
		Cluster:       "prod",
		Mode:          ModeCluster,
		Host: HostStatus{
			Instance:   "i-aaa",
			Target:     inst("i-aaa"),
			HostConfig: HostConfigStatus{State: HostConfigError, LastApplied: t0.Add(-5 * time.Second), Error: "enable ip_forward: open /proc/sys/net/ipv4/ip_forward: read-only file system"},
		},
		Leader: LeaderStatus{},
		Reconcile: &reconciler.Report{
			Leader: "i-aaa", Trigger: "resync", Started: t0.Add(-3*24*time.Hour - 5*time.Hour), Duration: 125 * time.Second,
			Result: reconciler.ResultError, Error: "list vtb-main: Throttling.User: Request was denied due to user flow control.",
		},
		API: []APICallCount{
			{Action: "DescribeRouteEntryList", Outcome: cloud.OutcomeThrottled, Count: 12},
			{Action: "DescribeRouteEntryList", Outcome: "timeout", Count: 1},
			{Action: "CreateRouteEntries", Outcome: cloud.OutcomeBusy, Count: 4},
		},
		Errors: []ErrorEntry{{Time: t0.Add(5 * time.Second), Component: "reconciler", Message: "clock ahead", Count: 1}},
		Loops: []LoopStatus{
			{Name: "reconciler", LastBeat: t0.Add(-4*time.Minute - 5*time.Second), Allowance: 3 * time.Minute, Stuck: true},
			{Name: "agent", LastBeat: t0.Add(-5 * time.Second), Allowance: 90 * time.Second},
			{Name: "election", LastBeat: t0.Add(-2 * time.Second), Allowance: 40 * time.Second},
			{Name: "registry", LastBeat: t0.Add(-3 * time.Second), Allowance: 90 * time.Second},
		},
	}
}
