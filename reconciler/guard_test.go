package reconciler

import (
	"strings"
	"testing"

	"github.com/vpcroute/vpcroute/cloud"
)

func heldSummary(ch Changes, held []Held) string {
	var parts []string
	if s := summary(ch); s != "" {
		parts = append(parts, s)
	}
	for _, h := range held {
		parts = append(parts, "~"+h.Route.Destination.String()+">"+h.Route.Target+"("+h.Reason+")")
	}
	return strings.Join(parts, " ")
}

func TestGuardDeletes(t *testing.T) {
	iC := cloud.Target{Kind: cloud.TargetInstance, ID: "i-ccc"}
	del := func(dst string, tg cloud.Target) cloud.Route { return owned("vtb-1", dst, tg) }
	reg := func(ts ...cloud.Target) map[cloud.Target]bool {
		m := map[cloud.Target]bool{}
		for _, t := range ts {
			m[t] = true
		}
		return m
	}
	tests := []struct {
		name string
		ch   Changes
		in   GuardInput
		want string
	}{
		{"registered host dropped a subnet: delete",
			Changes{Delete: []cloud.Route{del("10.9.0.0/24", iA)}}, GuardInput{Registered: reg(iA), Owned: 10},
			"-vtb-1:10.9.0.0/24>i-aaa"},
		{"unregistered and not confirmed gone: held",
			Changes{Delete: []cloud.Route{del("10.9.0.0/24", iA)}}, GuardInput{Owned: 10},
			"~10.9.0.0/24>Instance/i-aaa(instance-not-confirmed-gone)"},
		{"unregistered and confirmed gone: delete",
			Changes{Delete: []cloud.Route{del("10.9.0.0/24", iA)}}, GuardInput{Gone: reg(iA), Owned: 10},
			"-vtb-1:10.9.0.0/24>i-aaa"},
		{"three deletions are always allowed",
			Changes{Delete: []cloud.Route{del("10.1.0.0/24", iA), del("10.2.0.0/24", iB), del("10.3.0.0/24", iC)}},
			GuardInput{Gone: reg(iA, iB, iC), Owned: 3},
			"-vtb-1:10.1.0.0/24>i-aaa -vtb-1:10.2.0.0/24>i-bbb -vtb-1:10.3.0.0/24>i-ccc"},
		{"more than max(3, 25%) held",
			Changes{Delete: []cloud.Route{del("10.1.0.0/24", iA), del("10.2.0.0/24", iA), del("10.3.0.0/24", iB), del("10.4.0.0/24", iC)}},
			GuardInput{Gone: reg(iA, iB, iC), Owned: 12},
			"~10.1.0.0/24>Instance/i-aaa(mass-delete-guard) ~10.2.0.0/24>Instance/i-aaa(mass-delete-guard) ~10.3.0.0/24>Instance/i-bbb(mass-delete-guard) ~10.4.0.0/24>Instance/i-ccc(mass-delete-guard)"},
		{"25% of a large cluster passes",
			Changes{Delete: []cloud.Route{del("10.1.0.0/24", iA), del("10.2.0.0/24", iA), del("10.3.0.0/24", iB), del("10.4.0.0/24", iC)}},
			GuardInput{Gone: reg(iA, iB, iC), Owned: 16},
			"-vtb-1:10.1.0.0/24>i-aaa -vtb-1:10.2.0.0/24>i-aaa -vtb-1:10.3.0.0/24>i-bbb -vtb-1:10.4.0.0/24>i-ccc"},
		{"--allow-mass-delete lifts the guard",
			Changes{Delete: []cloud.Route{del("10.1.0.0/24", iA), del("10.2.0.0/24", iA), del("10.3.0.0/24", iB), del("10.4.0.0/24", iC)}},
			GuardInput{Gone: reg(iA, iB, iC), Owned: 4, AllowMassDelete: true},
			"-vtb-1:10.1.0.0/24>i-aaa -vtb-1:10.2.0.0/24>i-aaa -vtb-1:10.3.0.0/24>i-bbb -vtb-1:10.4.0.0/24>i-ccc"},
		{"a replacement whose deletion is held becomes a conflict",
			Changes{Delete: []cloud.Route{del("10.1.0.0/24", iA)}, Create: []cloud.Route{{TableID: "vtb-1", Destination: pfx("10.1.0.0/24"), Target: iB}}},
			GuardInput{Registered: reg(iB), Owned: 1},
			"!occupied:10.1.0.0/24 ~10.1.0.0/24>Instance/i-aaa(instance-not-confirmed-gone)"},
		{"a replacement of a gone target goes through",
			Changes{Delete: []cloud.Route{del("10.1.0.0/24", iA)}, Create: []cloud.Route{{TableID: "vtb-1", Destination: pfx("10.1.0.0/24"), Target: iB}}},
			GuardInput{Registered: reg(iB), Gone: reg(iA), Owned: 1},
			"+vtb-1:10.1.0.0/24>i-bbb -vtb-1:10.1.0.0/24>i-aaa"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := heldSummary(GuardDeletes(tt.ch, tt.in)); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestMassDeleteLimit(t *testing.T) {
	for owned, want := range map[int]int{0: 3, 4: 3, 12: 3, 16: 4, 200: 50} {
		if got := MassDeleteLimit(owned); got != want {
			t.Errorf("MassDeleteLimit(%d) = %d, want %d", owned, got, want)
		}
	}
}
