package doctor

import (
	"fmt"
	"testing"

	"github.com/vpcroute/vpcroute/cloud"
)

// breakCase changes one thing in the healthy facts.
type breakCase struct {
	name   string
	change func(f *Facts)
}

var breakCases = []breakCase{
	{"docker down", func(f *Facts) {
		f.Docker.Err = "docker at unix:///var/run/docker.sock is unreachable: dial unix /var/run/docker.sock: connect: no such file or directory"
		f.Subnets.Local = nil
	}},
	{"bip allocated, Docker not restarted", func(f *Facts) {
		f.DockerConfig = DockerConfigFacts{Path: "/etc/docker/daemon.json", BIP: pfx("10.7.0.1/24")}
	}},
	{"daemon.json unreadable", func(f *Facts) {
		f.DockerConfig = DockerConfigFacts{Path: "/etc/docker/daemon.json", Err: "/etc/docker/daemon.json: invalid JSON at byte 3: invalid character 'x'"}
	}},
	{"network missing", func(f *Facts) {
		f.Subnets.Err = `docker network "blue" not found at unix:///var/run/docker.sock; expected an existing bridge network (see docker network ls)`
		f.Subnets.Local = nil
	}},
	{"no subnets", func(f *Facts) { f.Subnets.Local = nil }},
	{"overlap vpc", func(f *Facts) {
		f.Subnets.Local = append(f.Subnets.Local, pfx("192.168.5.0/24"))
	}},
	{"outside cluster", func(f *Facts) { f.Subnets.Local = append(f.Subnets.Local, pfx("172.17.0.0/16")) }},
	{"collides", func(f *Facts) {
		f.Others.Claims = append(f.Others.Claims, Claim{Instance: "i-ddd", Target: cloudTarget("i-ddd"), Subnet: pfx("10.2.0.0/25")})
	}},
	{"ip_forward off", func(f *Facts) {
		f.Host.IPForward.Value = "0"
		f.Host.Uplink.Forwarding.Value = "0"
		f.Host.Bridges[local] = iface("docker0", "0", "0")
	}},
	{"sysctls unreadable", func(f *Facts) {
		f.Host.IPForward = Sysctl{Name: "net.ipv4.ip_forward", Err: "open /proc/sys/net/ipv4/ip_forward: permission denied"}
	}},
	{"bridge forwarding off", func(f *Facts) { f.Host.Bridges[local] = iface("docker0", "0", "0") }},
	{"no default route", func(f *Facts) { f.Host.UplinkErr = "no IPv4 default route"; f.Host.Uplink = Iface{} }},
	{"rp strict wrong way", func(f *Facts) {
		f.Host.RPFilterAll.Value = "1"
		f.Host.ReturnRoutes[1].Iface = "wg0"
	}},
	{"rp strict fine", func(f *Facts) { f.Host.Uplink.RPFilter.Value = "1" }},
	{"forward drop without rules", func(f *Facts) {
		delete(f.Host.Filter, "VPCROUTE-FORWARD")
		f.Host.Filter["DOCKER-USER"] = chain("", "-j RETURN")
	}},
	{"forward policy accept without rules", func(f *Facts) {
		delete(f.Host.Filter, "VPCROUTE-FORWARD")
		f.Host.Filter["DOCKER-USER"] = chain("", "-j RETURN")
		fw := f.Host.Filter["FORWARD"]
		fw.Policy = "ACCEPT"
		f.Host.Filter["FORWARD"] = fw
	}},
	{"host-config off, policy drop", func(f *Facts) {
		f.HostConfig = false
		delete(f.Host.Filter, "VPCROUTE-FORWARD")
		f.Host.Filter["DOCKER-USER"] = chain("", "-j RETURN")
	}},
	{"host-config off, policy accept", func(f *Facts) {
		f.HostConfig = false
		delete(f.Host.Filter, "VPCROUTE-FORWARD")
		f.Host.Filter["DOCKER-USER"] = chain("", "-j RETURN")
		fw := f.Host.Filter["FORWARD"]
		fw.Policy = "ACCEPT"
		f.Host.Filter["FORWARD"] = fw
	}},
	{"host-config off, manual rules", func(f *Facts) {
		f.HostConfig = false
		delete(f.Host.Filter, "VPCROUTE-FORWARD")
		f.Host.Filter["DOCKER-USER"] = chain("", "-s 10.0.0.0/8 -d 10.2.0.0/24 -j ACCEPT", "-j RETURN")
		delete(f.Host.NAT, "VPCROUTE-POSTROUTING")
		f.Host.NAT["POSTROUTING"] = chain("ACCEPT", "-s 10.0.0.0/8 -d 10.0.0.0/8 -j RETURN", "-s 10.2.0.0/24 ! -o docker0 -j MASQUERADE")
	}},
	{"host-config off, nat missing", func(f *Facts) {
		f.HostConfig = false
		delete(f.Host.NAT, "VPCROUTE-POSTROUTING")
		f.Host.NAT["POSTROUTING"] = chain("ACCEPT", "-s 10.2.0.0/24 ! -o docker0 -j MASQUERADE")
	}},
	{"drop in docker-user", func(f *Facts) {
		du := f.Host.Filter["DOCKER-USER"]
		du.Rules = append(rules("-d 10.2.0.0/24 -j DROP"), du.Rules...)
		f.Host.Filter["DOCKER-USER"] = du
	}},
	{"reject in forward", func(f *Facts) {
		fw := f.Host.Filter["FORWARD"]
		fw.Rules = append(rules("-s 10.0.0.0/8 -d 10.2.0.0/24 -j REJECT --reject-with icmp-port-unreachable"), fw.Rules...)
		f.Host.Filter["FORWARD"] = fw
	}},
	{"drop from one host in forward", func(f *Facts) {
		fw := f.Host.Filter["FORWARD"]
		fw.Rules = append(rules("-s 10.1.0.0/24 -d 10.2.0.0/24 -j REJECT --reject-with icmp-port-unreachable"), fw.Rules...)
		f.Host.Filter["FORWARD"] = fw
	}},
	{"snat of one destination", func(f *Facts) {
		f.Host.NAT["POSTROUTING"] = chain("ACCEPT", "-s 10.2.0.0/24 -d 10.1.0.0/24 -j SNAT --to-source 192.168.1.198",
			"-m comment --comment vpcroute:lab -j VPCROUTE-POSTROUTING", "-s 10.2.0.0/24 ! -o docker0 -j MASQUERADE")
	}},
	{"tcp drop in docker-user", func(f *Facts) {
		du := f.Host.Filter["DOCKER-USER"]
		du.Rules = append(rules("-d 10.2.0.0/24 -p tcp -m tcp --dport 22 -j DROP"), du.Rules...)
		f.Host.Filter["DOCKER-USER"] = du
	}},
	{"harmless drops", func(f *Facts) {
		du := f.Host.Filter["DOCKER-USER"]
		du.Rules = append(rules(
			"-m conntrack --ctstate INVALID -j DROP",
			"-i wg0 -j DROP",
			"-s 10.2.0.0/24 -j DROP",
			"-d 10.3.0.0/24 -j DROP",
		), du.Rules...)
		f.Host.Filter["DOCKER-USER"] = du
	}},
	{"docker-user jump missing", func(f *Facts) {
		f.Host.Filter["DOCKER-USER"] = chain("", "-j RETURN")
	}},
	{"nat jump missing", func(f *Facts) {
		f.Host.NAT["POSTROUTING"] = chain("ACCEPT", "-s 10.2.0.0/24 ! -o docker0 -j MASQUERADE")
	}},
	{"masquerade above jump", func(f *Facts) {
		f.Host.NAT["POSTROUTING"] = chain("ACCEPT", "-s 10.2.0.0/24 ! -o docker0 -j MASQUERADE", "-m comment --comment vpcroute:lab -j VPCROUTE-POSTROUTING")
	}},
	{"nat chain empty", func(f *Facts) { f.Host.NAT["VPCROUTE-POSTROUTING"] = chain("") }},
	{"cleanup", func(f *Facts) {
		delete(f.Host.Filter, "VPCROUTE-FORWARD")
		f.Host.Filter["DOCKER-USER"] = chain("", "-j RETURN")
		delete(f.Host.NAT, "VPCROUTE-POSTROUTING")
		f.Host.NAT["POSTROUTING"] = chain("ACCEPT", "-s 10.2.0.0/24 ! -o docker0 -j MASQUERADE")
	}},
	{"cloud down", func(f *Facts) {
		f.Cloud.Err = "identify this host: read metadata instance-id: connection refused"
		f.Others = OtherHosts{}
	}},
	{"aws cloud down", func(f *Facts) {
		useProvider(f, awsSpec)
		f.Cloud.Err = "identify this host: get IMDSv2 token: connection refused"
		f.Others = OtherHosts{}
	}},
	{"provider without hints down", func(f *Facts) {
		useProvider(f, cloud.Spec{Name: "fake"})
		f.Cloud.Err = "identify this host: connection refused"
		f.Others = OtherHosts{}
	}},
	{"provider without a known limit", func(f *Facts) { useProvider(f, cloud.Spec{Name: "fake"}) }},
	{"route deleted", func(f *Facts) { f.Cloud.Tables["vtb-lab"] = f.Cloud.Tables["vtb-lab"][:4] }},
	{"route pending", func(f *Facts) { f.Cloud.Tables["vtb-lab"][4].Status = "Pending" }},
	{"route unowned other instance", func(f *Facts) {
		f.Cloud.Tables["vtb-lab"][4] = unownedRoute("10.2.0.0/24", hostA, "manual")
	}},
	{"route owned other instance", func(f *Facts) {
		f.Cloud.Tables["vtb-lab"][4] = owned("10.2.0.0/24", hostA)
	}},
	{"route shadowed", func(f *Facts) {
		f.Cloud.Tables["vtb-lab"] = append(f.Cloud.Tables["vtb-lab"], unownedRoute("10.2.0.128/25", cloudTarget("i-zzz"), "old"))
	}},
	{"peer route missing", func(f *Facts) {
		f.Cloud.Tables["vtb-lab"] = append(f.Cloud.Tables["vtb-lab"][:2], f.Cloud.Tables["vtb-lab"][3:]...)
	}},
	{"peer route blackhole", func(f *Facts) { f.Cloud.Tables["vtb-lab"][2].Status = "Blackhole" }},
	{"peer unknown", func(f *Facts) { f.Peer.Peer = Peer{Kind: PeerIP, Addr: addr("10.7.0.9")} }},
	{"quota near", func(f *Facts) { f.RouteQuota = 4 }},
	{"aws source/dest check on", func(f *Facts) {
		useProvider(f, awsSpec)
		f.Cloud.SourceDest = &SourceDestFacts{Interface: "eni-0abc", On: true}
	}},
	{"aws source/dest check off", func(f *Facts) {
		useProvider(f, awsSpec)
		f.Cloud.SourceDest = &SourceDestFacts{Interface: "eni-0abc"}
	}},
	{"aws quota near", func(f *Facts) {
		useProvider(f, awsSpec)
		for i := range 42 {
			f.Cloud.Tables["vtb-lab"] = append(f.Cloud.Tables["vtb-lab"], owned(fmt.Sprintf("10.3.%d.0/24", i), cloudTarget("i-x")))
		}
	}},
	{"daemon of another host", func(f *Facts) { f.Daemon.Doc.Host.Instance = "i-aaa" }},
	{"no daemon", func(f *Facts) { f.Daemon.Doc, f.Daemon.Absent, f.Daemon.Err = nil, true, "connection refused" }},
	{"no leader", func(f *Facts) { f.Daemon.Doc.Leader = statusLeaderUnknown() }},
	{"not registered", func(f *Facts) { f.Daemon.Doc.Host.Registered = false }},
	{"reconcile old", func(f *Facts) { f.Daemon.Doc.Reconcile.Started = generated.Add(-16 * 1e9) }},
	{"reconcile degraded", func(f *Facts) { f.Daemon.Doc.Reconcile.Result = "degraded"; f.Daemon.Doc.Reconcile.Held = heldOne() }},
	{"reconcile error", func(f *Facts) {
		f.Daemon.Doc.Reconcile.Result = "error"
		f.Daemon.Doc.Reconcile.Error = "list vtb-lab: Throttling.User"
	}},
}

// expectation is what doctor must say about one break: every check that
// does not PASS, with its verdict (all others must PASS), and the exact
// cause and fix of the check that names the break (its PASS cause when
// the change must not be flagged).
type expectation struct {
	notPass    map[string]Result
	id         string
	cause, fix string
}

// TestBreakOneThing: each case changes one fact of a healthy host; doctor
// names exactly that cause, with the exact fix, and every other check
// still passes (or is skipped where it depends on the broken one).
func TestBreakOneThing(t *testing.T) {
	seen := map[string]bool{}
	for _, bc := range breakCases {
		t.Run(bc.name, func(t *testing.T) {
			want, ok := expected[bc.name]
			if !ok {
				t.Fatalf("no expectation for %q", bc.name)
			}
			seen[bc.name] = true
			f := healthy()
			bc.change(&f)
			checks := Evaluate(f)
			for _, c := range checks {
				w, listed := want.notPass[c.ID]
				if !listed {
					w = Pass
				}
				if c.Result != w {
					t.Errorf("%s = %s (%s), want %s", c.ID, c.Result, c.Cause, w)
				}
			}
			for id := range want.notPass {
				if _, ok := find(checks, id); !ok {
					t.Errorf("no check %s", id)
				}
			}
			c, ok := find(checks, want.id)
			if !ok {
				t.Fatalf("no check %s", want.id)
			}
			if c.Cause != want.cause {
				t.Errorf("%s cause:\n got %q\nwant %q", c.ID, c.Cause, want.cause)
			}
			if c.Fix != want.fix {
				t.Errorf("%s fix:\n got %q\nwant %q", c.ID, c.Fix, want.fix)
			}
		})
	}
	for name := range expected {
		if !seen[name] {
			t.Errorf("expectation %q has no break case", name)
		}
	}
}

func find(checks []Check, id string) (Check, bool) {
	for _, c := range checks {
		if c.ID == id {
			return c, true
		}
	}
	return Check{}, false
}
