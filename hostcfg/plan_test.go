package hostcfg

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// Rules for the planRules tests: A..D are owned by tag "vpcroute:t",
// X, Y are someone else's, O is owned by another cluster.
var (
	tagT = Tag("t")
	rA   = spec{"-s", "10.0.0.0/8", "-d", "10.0.0.0/24", "-m", "comment", "--comment", tagT, "-j", "ACCEPT"}
	rB   = spec{"-s", "10.0.0.0/8", "-d", "10.0.1.0/24", "-m", "comment", "--comment", tagT, "-j", "ACCEPT"}
	rC   = spec{"-s", "10.0.0.0/8", "-d", "10.0.2.0/24", "-m", "comment", "--comment", tagT, "-j", "ACCEPT"}
	rD   = spec{"-s", "10.0.0.0/8", "-d", "10.0.3.0/24", "-m", "comment", "--comment", tagT, "-j", "ACCEPT"}
	rX   = spec{"-s", "1.2.3.4/32", "-j", "DROP"}
	rY   = spec{"-j", "RETURN"}
	rO   = spec{"-s", "10.0.0.0/8", "-d", "10.0.0.0/24", "-m", "comment", "--comment", Tag("other"), "-j", "ACCEPT"}
)

func name(r spec) string {
	for n, s := range map[string]spec{"A": rA, "B": rB, "C": rC, "D": rD, "X": rX, "Y": rY, "O": rO} {
		if s.equal(r) {
			return n
		}
	}
	return r.String()
}

func names(rs []spec) string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = name(r)
	}
	return strings.Join(out, ",")
}

// simulate applies the changes to a copy of chain the way iptables would: a
// delete removes the first equal rule. It also checks that each change's
// Pos is where the rule really is.
func simulate(chain []spec, changes []Change) ([]spec, error) {
	out := slices.Clone(chain)
	for _, c := range changes {
		switch c.Op {
		case OpInsertRule:
			if c.Pos < 1 || c.Pos > len(out)+1 {
				return nil, fmt.Errorf("insert at %d into %d rules", c.Pos, len(out))
			}
			out = slices.Insert(out, c.Pos-1, spec(c.Rule))
		case OpDeleteRule:
			i := slices.IndexFunc(out, spec(c.Rule).equal)
			if i < 0 || i+1 != c.Pos {
				return nil, fmt.Errorf("delete %s (expected at %d) from %s: found at %d", name(c.Rule), c.Pos, names(out), i+1)
			}
			out = slices.Delete(out, i, i+1)
		default:
			return nil, fmt.Errorf("unexpected %s", c.Op)
		}
	}
	return out, nil
}

func TestPlanRules(t *testing.T) {
	tests := []struct {
		name     string
		existing []spec
		desired  []spec
		pinTop   bool
		want     string // chain after the changes
		changes  int    // number of changes
	}{
		{"empty chain", nil, []spec{rA, rB, rC}, false, "A,B,C", 3},
		{"already right", []spec{rA, rB, rC}, []spec{rA, rB, rC}, false, "A,B,C", 0},
		{"foreign rules stay where they are", []spec{rX, rA, rY, rB}, []spec{rA, rB}, false, "X,A,Y,B", 0},
		{"missing middle rule goes after its predecessor", []spec{rA, rX, rC}, []spec{rA, rB, rC}, false, "A,B,X,C", 1},
		{"missing first rule goes on top", []spec{rX, rB}, []spec{rA, rB}, false, "A,X,B", 1},
		{"stale rule deleted", []spec{rA, rD, rB}, []spec{rA, rB}, false, "A,B", 1},
		{"subnet changed", []spec{rX, rA}, []spec{rB}, false, "B,X", 2},
		{"duplicates removed", []spec{rA, rA, rB, rA}, []spec{rA, rB}, false, "A,B", 4},
		{"duplicate whose first copy must go", []spec{rA, rB, rA}, []spec{rB, rA}, false, "B,A", 1},
		{"duplicate kept first, removed later", []spec{rA, rB, rA}, []spec{rA, rB}, false, "A,B", 3},
		{"order fixed with the fewest changes", []spec{rC, rA, rB}, []spec{rA, rB, rC}, false, "A,B,C", 2},
		{"swapped pair", []spec{rB, rA}, []spec{rA, rB}, false, "A,B", 2},
		{"other cluster's rule is foreign", []spec{rO}, []spec{rA}, false, "A,O", 1},
		{"cleanup removes only owned", []spec{rX, rA, rY, rB, rO}, nil, false, "X,Y,O", 2},
		{"cleanup of empty chain", nil, nil, false, "", 0},
		{"pinned and on top", []spec{rA, rX}, []spec{rA}, true, "A,X", 0},
		{"pinned pushed down", []spec{rX, rY, rA}, []spec{rA}, true, "A,X,Y", 4},
		{"pinned missing", []spec{rX}, []spec{rA}, true, "A,X", 1},
		{"pinned with stale copy below", []spec{rA, rX, rA}, []spec{rA}, true, "A,X", 5},
		{"pinned with leftover moving copy", []spec{movingCopy(rA), rX, rA}, []spec{rA}, true, "A,X", 5},
		{"pinned pair out of order", []spec{rB, rA, rX}, []spec{rA, rB}, true, "A,B,X", 8},
		{"pinned cleanup", []spec{rX, rA}, nil, true, "X", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			changes := planRules(TableFilter, "C", tt.existing, tt.desired, tagT, tt.pinTop)
			got, err := simulate(tt.existing, changes)
			if err != nil {
				t.Fatalf("changes %v do not apply: %v", changes, err)
			}
			if names(got) != tt.want {
				t.Errorf("chain after changes = %s, want %s (changes %v)", names(got), tt.want, changes)
			}
			if len(changes) != tt.changes {
				t.Errorf("%d changes, want %d: %v", len(changes), tt.changes, changes)
			}
			if again := planRules(TableFilter, "C", got, tt.desired, tagT, tt.pinTop); len(again) != 0 {
				t.Errorf("second plan not empty: %v", again)
			}
			for _, c := range changes {
				if c.Op == OpDeleteRule && !spec(c.Rule).ownedBy(tagT) {
					t.Errorf("plans to delete a rule it does not own: %v", c)
				}
			}
		})
	}
}

// TestPlanRulesRandom checks, on random chains, that the plan converges in
// one round and never touches or reorders rules vpcroute does not own.
func TestPlanRulesRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pool := []spec{rA, rB, rC, rD, rX, rY, rO, movingCopy(rA)}
	for i := range 2000 {
		existing := make([]spec, rng.IntN(7))
		for j := range existing {
			existing[j] = pool[rng.IntN(len(pool))]
		}
		var desired []spec
		for _, r := range []spec{rA, rB, rC, rD} {
			if rng.IntN(2) == 0 {
				desired = append(desired, r)
			}
		}
		pin := rng.IntN(3) == 0
		changes := planRules(TableFilter, "C", existing, desired, tagT, pin)
		got, err := simulate(existing, changes)
		if err != nil {
			t.Fatalf("#%d %s -> %s: %v", i, names(existing), names(desired), err)
		}
		isOwned := func(r spec) bool { return r.ownedBy(tagT) }
		owned := slices.DeleteFunc(slices.Clone(got), func(r spec) bool { return !isOwned(r) })
		if names(owned) != names(desired) {
			t.Fatalf("#%d %s -> %s: owned rules now %s", i, names(existing), names(desired), names(owned))
		}
		foreignBefore := slices.DeleteFunc(slices.Clone(existing), isOwned)
		foreignAfter := slices.DeleteFunc(slices.Clone(got), isOwned)
		if names(foreignBefore) != names(foreignAfter) {
			t.Fatalf("#%d foreign rules changed: %s -> %s", i, names(foreignBefore), names(foreignAfter))
		}
		if pin && names(got[:len(desired)]) != names(desired) {
			t.Fatalf("#%d pinned rules not on top: %s", i, names(got))
		}
		if again := planRules(TableFilter, "C", got, desired, tagT, pin); len(again) != 0 {
			t.Fatalf("#%d second plan not empty: %v", i, again)
		}
	}
}

// benchOptions has 32 local subnets and 3 VPC CIDRs: 160 filter rules.
func benchOptions() Options {
	o := validOptions()
	o.Subnets = nil
	for i := range 32 {
		o.Subnets = append(o.Subnets, netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, byte(i), 0}), 24))
	}
	o.VPCCIDRs = []netip.Prefix{netip.MustParsePrefix("192.168.0.0/16"), netip.MustParsePrefix("172.16.0.0/12"), netip.MustParsePrefix("100.64.0.0/10")}
	return o.withDefaults()
}

// BenchmarkPlanApplyInSync measures the steady state a daemon sees on
// every resync: everything already in place, nothing to do.
func BenchmarkPlanApplyInSync(b *testing.B) {
	rs := desiredRules(benchOptions())
	s := snapshot{
		ipForward:    "1",
		filterChains: map[string]bool{ChainVPCForward: true, ChainDockerUser: true},
		natChains:    map[string]bool{ChainVPCPostrouting: true},
		forward:      chainDump{policy: "DROP", rules: []spec{{"-j", "DOCKER-USER"}}},
		dockerUser:   chainDump{rules: []spec{jumpSpec(rs.tag, ChainVPCForward), {"-j", "RETURN"}}},
		vpcForward:   chainDump{rules: rs.forward},
		postrouting:  chainDump{policy: "ACCEPT", rules: []spec{jumpSpec(rs.tag, ChainVPCPostrouting)}},
		vpcPost:      chainDump{rules: rs.nat},
	}
	b.ReportAllocs()
	for b.Loop() {
		if p := planApply(s, rs, false); len(p.changes) != 0 {
			b.Fatalf("in-sync snapshot planned %v", p.changes)
		}
	}
}

// BenchmarkPlanApplyBipChange measures a full replacement: every rule of
// one subnet set swapped for another's.
func BenchmarkPlanApplyBipChange(b *testing.B) {
	old := desiredRules(benchOptions())
	o := benchOptions()
	for i := range o.Subnets {
		o.Subnets[i] = netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 1, byte(i), 0}), 24)
	}
	rs := desiredRules(o)
	s := snapshot{
		ipForward:    "1",
		filterChains: map[string]bool{ChainVPCForward: true, ChainDockerUser: true},
		natChains:    map[string]bool{ChainVPCPostrouting: true},
		forward:      chainDump{policy: "DROP", rules: []spec{{"-j", "DOCKER-USER"}}},
		dockerUser:   chainDump{rules: []spec{jumpSpec(rs.tag, ChainVPCForward)}},
		vpcForward:   chainDump{rules: old.forward},
		postrouting:  chainDump{policy: "ACCEPT", rules: []spec{jumpSpec(rs.tag, ChainVPCPostrouting)}},
		vpcPost:      chainDump{rules: old.nat},
	}
	b.ReportAllocs()
	for b.Loop() {
		if p := planApply(s, rs, false); len(p.changes) != 2*(len(rs.forward)+len(rs.nat)) {
			b.Fatalf("planned %d changes", len(p.changes))
		}
	}
}
