package doctor

import (
	"net/netip"
	"time"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/cloud/aliyun"
	"github.com/vpcroute/vpcroute/cloud/aws"
	"github.com/vpcroute/vpcroute/hostcfg"
	"github.com/vpcroute/vpcroute/reconciler"
	"github.com/vpcroute/vpcroute/reconciler/status"
)

// The facts of a healthy host i-ccc (10.2.0.0/24 on docker0, uplink eth0)
// in the lab's VPC, with Docker 20.10's rules and vpcroute's, two other
// hosts registered and a daemon whose last pass is 3 s old. Each test
// changes one thing.

var (
	pfx       = netip.MustParsePrefix
	addr      = netip.MustParseAddr
	local     = pfx("10.2.0.0/24")
	self      = cloud.Target{Kind: cloud.TargetInstance, ID: "i-ccc"}
	hostA     = cloud.Target{Kind: cloud.TargetInstance, ID: "i-aaa"}
	hostB     = cloud.Target{Kind: cloud.TargetInstance, ID: "i-bbb"}
	generated = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

	aliyunSpec = specOf(aliyun.Register)
	awsSpec    = specOf(aws.Register)
)

// specOf is the record register puts into a registry.
func specOf(register func(*cloud.Registry)) cloud.Spec {
	r := cloud.NewRegistry()
	register(r)
	return r.Specs()[0]
}

// useProvider sets the provider facts Gather takes from its record.
func useProvider(f *Facts, s cloud.Spec) {
	f.Cloud.Provider, f.Cloud.Limit, f.Cloud.AccessFix = s.Name, s.Limit, s.AccessFix
}

// rules splits iptables -S lines (after "-A CHAIN") into arguments.
func rules(lines ...string) [][]string {
	out := [][]string{}
	for _, l := range lines {
		args, err := splitArgs(l)
		if err != nil {
			panic(err)
		}
		out = append(out, args)
	}
	return out
}

// splitArgs splits on spaces, honouring double quotes (no escapes needed
// in these fixtures).
func splitArgs(s string) ([]string, error) {
	var out []string
	cur, inTok, inQ := "", false, false
	for _, c := range s {
		switch {
		case c == '"':
			inQ, inTok = !inQ, true
		case c == ' ' && !inQ:
			if inTok {
				out = append(out, cur)
			}
			cur, inTok = "", false
		default:
			cur += string(c)
			inTok = true
		}
	}
	if inTok {
		out = append(out, cur)
	}
	return out, nil
}

func owned(dst string, t cloud.Target) cloud.Route {
	return cloud.Route{TableID: "vtb-lab", Destination: pfx(dst), Target: t, Status: cloud.StatusAvailable,
		Cluster: "lab", Name: "vpcroute-lab", Description: "managed by vpcroute; cluster=lab; instance=" + t.ID}
}

func healthy() Facts {
	return Facts{
		Cluster: "lab", ClusterCIDR: pfx("10.0.0.0/8"), HostConfig: true,
		Docker:  DockerFacts{Asked: true, Addr: "unix:///var/run/docker.sock", APIVersion: "1.41"},
		Subnets: SubnetFacts{Local: []netip.Prefix{local}, Source: SourceDocker},
		Cloud: CloudFacts{
			Provider: aliyunSpec.Name, Limit: aliyunSpec.Limit, AccessFix: aliyunSpec.AccessFix,
			Self: cloud.Instance{ID: "i-ccc", Region: "cn-zhangjiakou", VPCID: "vpc-lab", PrivateIP: addr("192.168.1.198"), Target: self},
			Network: cloud.Network{VPCID: "vpc-lab", CIDRs: []netip.Prefix{pfx("192.168.0.0/16")},
				SubnetCIDRs: []netip.Prefix{pfx("192.168.1.0/24")}, RouteTables: []string{"vtb-lab"}},
			Tables: map[string][]cloud.Route{"vtb-lab": {
				{TableID: "vtb-lab", Destination: pfx("0.0.0.0/0"), Target: cloud.Target{Kind: "NatGateway", ID: "ngw-lab"}, Status: cloud.StatusAvailable, Name: "internet"},
				{TableID: "vtb-lab", Destination: pfx("192.168.1.0/24"), Target: cloud.Target{Kind: "local", ID: ""}, Status: cloud.StatusAvailable, System: true},
				owned("10.0.0.0/24", hostA), owned("10.1.0.0/24", hostB), owned("10.2.0.0/24", self),
			}},
		},
		Others: OtherHosts{Known: true, Source: OthersRegistry, Claims: []Claim{
			{Instance: "i-aaa", Target: hostA, Subnet: pfx("10.0.0.0/24")},
			{Instance: "i-bbb", Target: hostB, Subnet: pfx("10.1.0.0/24")},
		}},
		Host: HostFacts{
			IPForward:   Sysctl{Name: "net.ipv4.ip_forward", Value: "1"},
			Uplink:      iface("eth0", "1", "0"),
			RPFilterAll: Sysctl{Name: "net.ipv4.conf.all.rp_filter", Value: "0"},
			Bridges:     map[netip.Prefix]Iface{local: iface("docker0", "1", "0")},
			ReturnRoutes: []ReturnRoute{
				{Source: addr("10.0.0.1"), Iface: "eth0"}, {Source: addr("10.1.0.1"), Iface: "eth0"},
			},
			Filter: map[string]hostcfg.ChainRules{
				hostcfg.ChainForward: {Exists: true, Policy: "DROP", Rules: rules(
					"-j DOCKER-USER",
					"-j DOCKER-ISOLATION-STAGE-1",
					"-o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
					"-o docker0 -j DOCKER",
					"-i docker0 ! -o docker0 -j ACCEPT",
					"-i docker0 -o docker0 -j ACCEPT",
				)},
				hostcfg.ChainDockerUser: {Exists: true, Rules: rules(
					"-m comment --comment vpcroute:lab -j VPCROUTE-FORWARD",
					"-j RETURN",
				)},
				hostcfg.ChainVPCForward: {Exists: true, Rules: rules(
					"-s 10.2.0.0/24 -m comment --comment vpcroute:lab -j RETURN",
					"-s 10.0.0.0/8 -d 10.2.0.0/24 -m comment --comment vpcroute:lab -j ACCEPT",
					"-s 192.168.0.0/16 -d 10.2.0.0/24 -m comment --comment vpcroute:lab -j ACCEPT",
				)},
			},
			NAT: map[string]hostcfg.ChainRules{
				hostcfg.ChainPostrouting: {Exists: true, Policy: "ACCEPT", Rules: rules(
					"-m comment --comment vpcroute:lab -j VPCROUTE-POSTROUTING",
					"-s 10.2.0.0/24 ! -o docker0 -j MASQUERADE",
				)},
				hostcfg.ChainVPCPostrouting: {Exists: true, Rules: rules(
					"-s 10.2.0.0/24 -d 10.0.0.0/8 -m comment --comment vpcroute:lab -j ACCEPT",
				)},
			},
		},
		Peer: PeerFacts{Given: true, Peer: Peer{Kind: PeerIP, Addr: addr("10.0.0.2")}},
		Daemon: DaemonFacts{Addr: "127.0.0.1:9712", Resync: 5 * time.Second, Doc: &status.Document{
			SchemaVersion: status.SchemaVersion, Generated: generated, Version: "dev", Cluster: "lab", Mode: status.ModeCluster,
			Host: status.HostStatus{Instance: "i-ccc", Target: self, Subnets: []netip.Prefix{local},
				HostConfig: status.HostConfigStatus{State: status.HostConfigOK}, Registered: true},
			Leader: status.LeaderStatus{Instance: "i-aaa", Known: true},
			Hosts:  []reconciler.Host{{Instance: "i-aaa"}, {Instance: "i-bbb"}, {Instance: "i-ccc"}},
			Reconcile: &reconciler.Report{Leader: "i-aaa", Trigger: "resync", Started: generated.Add(-3 * time.Second),
				Duration: 20 * time.Millisecond, Result: reconciler.ResultOK, Tables: []reconciler.TableReport{{ID: "vtb-lab"}}},
		}},
	}
}

func iface(name, fwd, rp string) Iface {
	return Iface{Name: name,
		Forwarding: Sysctl{Name: "net.ipv4.conf." + name + ".forwarding", Value: fwd},
		RPFilter:   Sysctl{Name: "net.ipv4.conf." + name + ".rp_filter", Value: rp}}
}
