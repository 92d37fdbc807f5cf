package reconciler

import (
	"fmt"
	"strings"
	"testing"

	"github.com/vpcroute/vpcroute/cloud"
)

func TestAdmitHosts(t *testing.T) {
	eniA := cloud.Target{Kind: cloud.TargetNetworkInterface, ID: "eni-aaa"}
	listed := func(t cloud.Target) InstanceCheck { return InstanceCheck{Listed: true, Target: t} }
	checks := map[string]InstanceCheck{
		"i-aaa": listed(iA), "i-bbb": listed(iB), "i-eni": listed(eniA),
		"i-gone": {}, "i-ccc": {}, "i-err": {Err: "throttled"},
	}
	withTarget := func(h Host, t cloud.Target) Host { h.Target = t; return h }
	many := host("i-aaa", 1)
	for i := range MaxClaimsPerHost + 1 {
		many.Subnets = append(many.Subnets, Claim{Subnet: pfx(fmt.Sprintf("10.1.%d.0/24", i))})
	}
	tests := []struct {
		name   string
		host   Host
		reason string // "" accepted
	}{
		{"record as the cloud says", host("i-aaa", 1, "10.1.0.0/24", 0), ""},
		{"AWS: the ENI the cloud gives", withTarget(host("i-eni", 1, "10.1.0.0/24", 0), eniA), ""},
		{"target of another kind", withTarget(host("i-ccc", 1, "10.66.0.0/24", 0), cloud.Target{Kind: "NatGateway", ID: "ngw-1"}),
			"instance i-ccc is not listed by the cloud in this VPC"},
		{"a NAT gateway stated for a real instance", withTarget(host("i-aaa", 1, "10.66.0.0/24", 0), cloud.Target{Kind: "NatGateway", ID: "ngw-1"}),
			`record says routes go to "NatGateway/ngw-1", but the cloud says instance i-aaa is reached through Instance/i-aaa`},
		{"another host's instance as target", withTarget(host("i-aaa", 1, "10.66.0.0/24", 0), iB),
			`record says routes go to "Instance/i-bbb", but the cloud says instance i-aaa is reached through Instance/i-aaa`},
		{"AWS: another ENI", withTarget(host("i-eni", 1, "10.1.0.0/24", 0), cloud.Target{Kind: cloud.TargetNetworkInterface, ID: "eni-other"}),
			`record says routes go to "NetworkInterface/eni-other", but the cloud says instance i-eni is reached through NetworkInterface/eni-aaa`},
		{"no target stated", withTarget(host("i-aaa", 1, "10.1.0.0/24", 0), cloud.Target{}),
			"record says routes go to no target, but the cloud says instance i-aaa is reached through Instance/i-aaa"},
		{"instance the cloud does not list", withTarget(host("i-gone", 1, "10.1.0.0/24", 0), iA),
			"instance i-gone is not listed by the cloud in this VPC"},
		{"cloud could not be asked", host("i-err", 1, "10.1.0.0/24", 0), "instance i-err is not verified with the cloud yet: throttled"},
		{"never asked", host("i-new", 1, "10.1.0.0/24", 0), "instance i-new is not verified with the cloud yet"},
		{"unreadable record", Host{Instance: "i-aaa", Problem: "record is not a valid host record: boom"}, "record is not a valid host record: boom"},
		{"too many claims", many, fmt.Sprintf("record claims %d subnets: expected at most %d", MaxClaimsPerHost+1, MaxClaimsPerHost)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			acc, ref := AdmitHosts([]Host{tt.host}, checks)
			if tt.reason == "" {
				if len(acc) != 1 || len(ref) != 0 || acc[0].Target != checks[tt.host.Instance].Target {
					t.Fatalf("accepted %+v, refused %+v; want accepted with the cloud's target", acc, ref)
				}
				return
			}
			if len(acc) != 0 || len(ref) != 1 || ref[0].Instance != tt.host.Instance || ref[0].Reason != tt.reason {
				t.Fatalf("accepted %+v, refused %+v\nwant refused: %s", acc, ref, tt.reason)
			}
		})
	}
}

func TestGoneCheckAndForget(t *testing.T) {
	accepted := []Host{host("i-aaa", 1, "10.1.0.0/24", 0), host("i-bbb", 2, "10.2.0.0/24", 0)}
	refused := []RefusedHost{{Instance: "i-unlisted"}, {Instance: "i-mismatch"}, {Instance: "i-noanswer"}, {Instance: "i-bad"}}
	checks := map[string]InstanceCheck{"i-unlisted": {}, "i-mismatch": {Listed: true, Target: iA}, "i-noanswer": {Err: "x"}}
	blackhole := owned("vtb-1", "10.3.0.0/24", cloud.Target{Kind: cloud.TargetInstance, ID: "i-bh"})
	blackhole.Status = cloud.StatusBlackhole
	ch := Changes{
		Delete: []cloud.Route{owned("vtb-1", "10.9.0.0/24", iA), owned("vtb-1", "10.8.0.0/24", cloud.Target{Kind: cloud.TargetInstance, ID: "i-old"})},
		InSync: []cloud.Route{blackhole},
	}
	got := GoneCheck(accepted, refused, checks, map[string]bool{"i-bbb": true}, ch)
	var ids []string
	for _, g := range got {
		ids = append(ids, g.ID)
	}
	// i-aaa is registered (its deletion is its own word), i-mismatch is
	// listed, i-noanswer could not be asked, i-bad's record was unreadable
	// and never asked about.
	if want := "i-bbb i-old i-bh i-unlisted"; strings.Join(ids, " ") != want {
		t.Fatalf("GoneCheck = %v, want %s", ids, want)
	}
	gone := map[cloud.Target]bool{iB: true, {Kind: cloud.TargetInstance, ID: "i-unlisted"}: true}
	live, forget := ForgetGone(accepted, refused, gone)
	if len(live) != 1 || live[0].Instance != "i-aaa" || strings.Join(forget, " ") != "i-bbb i-unlisted" {
		t.Fatalf("live %v, forget %v", live, forget)
	}
}

func TestSilenceIsWhatTheLeaderSaw(t *testing.T) {
	s := silenceClock{}
	h := host("i-aaa", 1, "10.1.0.0/24", 0)
	h.Revision = 7
	if got := s.note([]Host{h}, t0, 0); len(got) != 0 {
		t.Fatalf("first sight is silent: %v", got)
	}
	h.LastSeen = t0.Add(24 * 365 * 24 * 3600e9) // a record claiming to be fresh for a year
	if got := s.note([]Host{h}, t0.Add(2*DefaultSilentAfter), DefaultSilentAfter); !got["i-aaa"] {
		t.Fatalf("an unchanged record is silent whatever its LastSeen says: %v", got)
	}
	h.Revision = 8 // a heartbeat
	if got := s.note([]Host{h}, t0.Add(3*DefaultSilentAfter), DefaultSilentAfter); len(got) != 0 {
		t.Fatalf("a rewritten record is not silent: %v", got)
	}
}
