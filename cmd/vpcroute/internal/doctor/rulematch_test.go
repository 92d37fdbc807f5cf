package doctor

import (
	"net/netip"
	"strings"
	"testing"
)

// cluster is the flow FORWARD sees: other hosts' containers (the cluster
// CIDR minus this host's subnet) to this host's subnet, eth0 -> docker0.
var cluster = flow{src: pfx("10.0.0.0/8"), srcExclude: []netip.Prefix{local}, dst: local, in: "eth0", out: "docker0"}

func TestRuleMatches(t *testing.T) {
	tests := []struct {
		rule string
		f    flow
		want match
	}{
		{"-j DROP", cluster, matchAll},
		{"-d 10.2.0.0/24 -j DROP", cluster, matchAll},
		{"-d 10.2.0.5/32 -j DROP", cluster, matchSome},
		{"-d 10.2.0.0/16 -j DROP", cluster, matchAll},
		{"-d 10.3.0.0/24 -j DROP", cluster, matchNone},
		{"! -d 10.2.0.0/24 -j DROP", cluster, matchNone},
		{"! -d 10.3.0.0/24 -j DROP", cluster, matchAll},
		{"! -d 10.2.0.0/25 -j DROP", cluster, matchSome},
		{"-s 10.0.0.0/8 -j DROP", cluster, matchAll},
		{"-s 10.1.0.0/24 -j DROP", cluster, matchSome},
		// This host's own subnet is not a source of the cluster flow.
		{"-s 10.2.0.0/24 -j RETURN", cluster, matchNone},
		{"-s 10.2.0.0/25 -j RETURN", cluster, matchNone},
		{"-s 192.168.0.0/16 -j DROP", cluster, matchNone},
		{"! -s 10.0.0.0/8 -j DROP", cluster, matchNone},
		{"! -s 192.168.0.0/16 -j DROP", cluster, matchAll},
		{"-i eth0 -j DROP", cluster, matchAll},
		{"-i eth+ -j DROP", cluster, matchAll},
		{"-i wg0 -j DROP", cluster, matchNone},
		{"! -i eth0 -j DROP", cluster, matchNone},
		{"-o docker0 -j DROP", cluster, matchAll},
		{"! -o docker0 -j DROP", cluster, matchNone},
		{"-o br-+ -j DROP", cluster, matchNone},
		{"-o docker0 -j DROP", flow{src: cluster.src, dst: cluster.dst}, matchPart}, // interface unknown
		{"-m conntrack --ctstate INVALID -j DROP", cluster, matchNone},
		{"-m conntrack --ctstate NEW,ESTABLISHED -j DROP", cluster, matchAll},
		{"-m conntrack ! --ctstate RELATED,ESTABLISHED -j DROP", cluster, matchAll},
		{"-m state --state RELATED,ESTABLISHED -j ACCEPT", cluster, matchNone},
		{"-p tcp -m tcp --dport 22 -j DROP", cluster, matchPart},
		{"-p all -j DROP", cluster, matchAll},
		{"-m set --match-set blocked src -j DROP", cluster, matchPart},
		{"-s not-an-address -j DROP", cluster, matchPart},
		{"-m comment --comment \"a -d 10.3.0.0/24 comment\" -j DROP", cluster, matchAll},
		{"-d 10.3.0.0/24 -p tcp -j DROP", cluster, matchNone},
		{"-s 10.1.0.0/24 -p tcp -j DROP", cluster, matchPart},
		{"-s 10.1.0.0/24 -o docker0 -j DROP", flow{src: cluster.src, srcExclude: cluster.srcExclude, dst: cluster.dst}, matchPart},
	}
	for _, tt := range tests {
		args, _ := splitArgs(tt.rule)
		if got := parseRule(args).matches(tt.f); got != tt.want {
			t.Errorf("%q matches = %d, want %d", tt.rule, got, tt.want)
		}
	}
}

func TestParseRuleTarget(t *testing.T) {
	tests := []struct {
		rule, target string
		goTo         bool
	}{
		{"-s 10.0.0.0/8 -j REJECT --reject-with icmp-port-unreachable", "REJECT", false},
		{"-g DOCKER-USER", "DOCKER-USER", true},
		{"-m comment --comment vpcroute:lab -j VPCROUTE-FORWARD", "VPCROUTE-FORWARD", false},
		{"-s 10.0.0.0/8", "", false},
	}
	for _, tt := range tests {
		args, _ := splitArgs(tt.rule)
		r := parseRule(args)
		if r.target != tt.target || r.goTo != tt.goTo {
			t.Errorf("%q: target %q goto %v, want %q %v", tt.rule, r.target, r.goTo, tt.target, tt.goTo)
		}
		// Target options are not match conditions.
		if strings.Contains(tt.rule, "--reject-with") && r.other != 0 {
			t.Errorf("%q: %d unknown conditions, want 0", tt.rule, r.other)
		}
	}
}

func TestWalkFollowsJumpsAndReturns(t *testing.T) {
	chains := healthy().Host.Filter
	w := walker{chains: chains, blocking: map[string]outcome{"DROP": outBlock, "REJECT": outBlock}}
	res := w.walk("FORWARD", cluster)
	if res.out != outAccept || res.by.short() != "VPCROUTE-FORWARD #2" {
		t.Errorf("walk = %d by %s, want accepted by VPCROUTE-FORWARD #2", res.out, res.by)
	}
	if !res.jumped["DOCKER-USER"] || !res.jumped["VPCROUTE-FORWARD"] {
		t.Errorf("jumped %v", res.jumped)
	}
	// A goto into a chain that returns goes back to FORWARD's caller: the
	// policy; a plain jump continues after the jump.
	chains["FORWARD"] = chain("DROP", "-g DOCKER-USER", "-j ACCEPT")
	chains["DOCKER-USER"] = chain("", "-j RETURN")
	if res := w.walk("FORWARD", cluster); res.out != outPolicy {
		t.Errorf("after goto and RETURN: %d, want the policy", res.out)
	}
	chains["FORWARD"] = chain("DROP", "-j DOCKER-USER", "-j ACCEPT")
	if res := w.walk("FORWARD", cluster); res.out != outAccept || res.by.short() != "FORWARD #2" {
		t.Errorf("after jump and RETURN: %d by %s, want FORWARD #2", res.out, res.by)
	}
	// A chain that was not read is not followed.
	chains["FORWARD"] = chain("DROP", "-j DOCKER-ISOLATION-STAGE-1", "-j DROP")
	if res := w.walk("FORWARD", cluster); res.out != outBlock || res.by.pos != 2 {
		t.Errorf("unknown chain: %d by %s", res.out, res.by)
	}
}
