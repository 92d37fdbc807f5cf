package reconciler

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"

	"github.com/vpcroute/vpcroute/cloud"
)

var (
	iA  = cloud.Target{Kind: cloud.TargetInstance, ID: "i-aaa"}
	iB  = cloud.Target{Kind: cloud.TargetInstance, ID: "i-bbb"}
	ngw = cloud.Target{Kind: "NatGateway", ID: "ngw-1"}
	vpn = cloud.Target{Kind: "VpnGateway", ID: "vpn-1"}
)

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }

func owned(table, dst string, t cloud.Target) cloud.Route {
	return cloud.Route{TableID: table, Destination: pfx(dst), Target: t, Cluster: "prod", Status: cloud.StatusAvailable}
}

func foreign(table, dst string, t cloud.Target, name string) cloud.Route {
	return cloud.Route{TableID: table, Destination: pfx(dst), Target: t, Name: name, Status: cloud.StatusAvailable}
}

func base() PlanInput {
	return PlanInput{
		Cluster:     "prod",
		ClusterCIDR: pfx("10.0.0.0/8"),
		VPCCIDRs:    []netip.Prefix{pfx("192.168.0.0/16")},
		SubnetCIDRs: []netip.Prefix{pfx("192.168.1.0/24")},
		Tables: map[string][]cloud.Route{"vtb-1": {
			{TableID: "vtb-1", Destination: pfx("192.168.1.0/24"), Target: cloud.Target{Kind: "local"}, System: true},
			foreign("vtb-1", "0.0.0.0/0", ngw, "internet"),
		}},
		Desired: []Desired{{pfx("10.1.0.0/24"), iB}},
		Scope:   []cloud.Target{iB},
		Policy:  PolicySync,
	}
}

// summary renders a plan compactly for table tests.
func summary(ch Changes) string {
	var b strings.Builder
	for _, r := range ch.Create {
		b.WriteString("+" + r.TableID + ":" + r.Destination.String() + ">" + r.Target.ID + " ")
	}
	for _, r := range ch.Delete {
		b.WriteString("-" + r.TableID + ":" + r.Destination.String() + ">" + r.Target.ID + " ")
	}
	for _, c := range ch.Conflicts {
		b.WriteString("!" + c.Kind + ":" + c.Desired.Destination.String() + " ")
	}
	for _, r := range ch.Refused {
		b.WriteString("x" + r.Desired.Destination.String() + " ")
	}
	return strings.TrimSpace(b.String())
}

func TestCalculate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*PlanInput)
		want   string
	}{
		{"first run creates the route", func(in *PlanInput) {}, "+vtb-1:10.1.0.0/24>i-bbb"},
		{"second run changes nothing", func(in *PlanInput) {
			in.Tables["vtb-1"] = append(in.Tables["vtb-1"], owned("vtb-1", "10.1.0.0/24", iB))
		}, ""},
		{"pending owned entry is in sync, not recreated", func(in *PlanInput) {
			r := owned("vtb-1", "10.1.0.0/24", iB)
			r.Status = cloud.StatusPending
			in.Tables["vtb-1"] = append(in.Tables["vtb-1"], r)
		}, ""},
		{"every managed table gets the route", func(in *PlanInput) {
			in.Tables["vtb-2"] = nil
		}, "+vtb-1:10.1.0.0/24>i-bbb +vtb-2:10.1.0.0/24>i-bbb"},
		{"unowned entry on the destination is a conflict, not overwritten", func(in *PlanInput) {
			in.Tables["vtb-1"] = append(in.Tables["vtb-1"], foreign("vtb-1", "10.1.0.0/24", vpn, "office"))
		}, "!occupied:10.1.0.0/24"},
		{"another host of the cluster holds the destination", func(in *PlanInput) {
			in.Tables["vtb-1"] = append(in.Tables["vtb-1"], owned("vtb-1", "10.1.0.0/24", iA))
		}, "!occupied:10.1.0.0/24"},
		{"another cluster's entry is not ours", func(in *PlanInput) {
			r := owned("vtb-1", "10.1.0.0/24", iB)
			r.Cluster = "staging"
			in.Tables["vtb-1"] = append(in.Tables["vtb-1"], r)
		}, "!occupied:10.1.0.0/24"},
		{"more specific foreign entry shadows but does not block", func(in *PlanInput) {
			in.Tables["vtb-1"] = append(in.Tables["vtb-1"], foreign("vtb-1", "10.1.0.128/25", vpn, "vpn"))
		}, "+vtb-1:10.1.0.0/24>i-bbb !shadowed:10.1.0.0/24"},
		{"less specific foreign entry: carving a route out of it is a conflict", func(in *PlanInput) {
			in.Tables["vtb-1"] = append(in.Tables["vtb-1"], foreign("vtb-1", "10.0.0.0/8", vpn, "vpn"))
		}, "!carve-out:10.1.0.0/24"},
		{"carve-out allowed by the operator", func(in *PlanInput) {
			in.AllowCarveOut = true
			in.Tables["vtb-1"] = append(in.Tables["vtb-1"], foreign("vtb-1", "10.0.0.0/8", vpn, "vpn"))
		}, "+vtb-1:10.1.0.0/24>i-bbb"},
		{"another cluster's broader entry is someone else's too", func(in *PlanInput) {
			r := owned("vtb-1", "10.1.0.0/16", iA)
			r.Cluster = "staging"
			in.Tables["vtb-1"] = append(in.Tables["vtb-1"], r)
		}, "!carve-out:10.1.0.0/24"},
		{"our own broader entry is no carve-out", func(in *PlanInput) {
			in.Tables["vtb-1"] = append(in.Tables["vtb-1"], owned("vtb-1", "10.1.0.0/16", iA))
		}, "+vtb-1:10.1.0.0/24>i-bbb"},
		{"a carve-out keeps the entry already there, and says so", func(in *PlanInput) {
			in.Tables["vtb-1"] = append(in.Tables["vtb-1"], foreign("vtb-1", "10.1.0.0/16", vpn, "vpn"), owned("vtb-1", "10.1.0.0/24", iB))
		}, "!carve-out:10.1.0.0/24"},
		{"blocked in one table: written in none", func(in *PlanInput) {
			in.Tables["vtb-2"] = []cloud.Route{foreign("vtb-2", "10.1.0.0/24", vpn, "office")}
		}, "!occupied:10.1.0.0/24 !withheld:10.1.0.0/24"},
		{"carve-out in one table: written in none", func(in *PlanInput) {
			in.Tables["vtb-2"] = []cloud.Route{foreign("vtb-2", "10.0.0.0/12", vpn, "office")}
		}, "!carve-out:10.1.0.0/24 !withheld:10.1.0.0/24"},
		{"blocked in one table: a move elsewhere is withheld, the old entry kept", func(in *PlanInput) {
			in.Scope, in.Replace = nil, true
			in.Tables["vtb-1"] = append(in.Tables["vtb-1"], owned("vtb-1", "10.1.0.0/24", iA), owned("vtb-1", "10.7.0.0/24", iA))
			in.Tables["vtb-2"] = []cloud.Route{foreign("vtb-2", "10.1.0.0/24", vpn, "office")}
		}, "-vtb-1:10.7.0.0/24>i-aaa !occupied:10.1.0.0/24 !withheld:10.1.0.0/24"},
		{"bip changed: stale own entry deleted, new created", func(in *PlanInput) {
			in.Tables["vtb-1"] = append(in.Tables["vtb-1"], owned("vtb-1", "10.9.0.0/24", iB))
		}, "+vtb-1:10.1.0.0/24>i-bbb -vtb-1:10.9.0.0/24>i-bbb"},
		{"upsert-only never deletes", func(in *PlanInput) {
			in.Policy = PolicyUpsertOnly
			in.Tables["vtb-1"] = append(in.Tables["vtb-1"], owned("vtb-1", "10.9.0.0/24", iB))
		}, "+vtb-1:10.1.0.0/24>i-bbb"},
		{"other hosts' entries are out of a host's scope", func(in *PlanInput) {
			in.Tables["vtb-1"] = append(in.Tables["vtb-1"], owned("vtb-1", "10.0.0.0/24", iA))
		}, "+vtb-1:10.1.0.0/24>i-bbb"},
		{"without scope every stale owned entry goes", func(in *PlanInput) {
			in.Scope = nil
			in.Tables["vtb-1"] = append(in.Tables["vtb-1"], owned("vtb-1", "10.0.0.0/24", iA))
		}, "+vtb-1:10.1.0.0/24>i-bbb -vtb-1:10.0.0.0/24>i-aaa"},
		{"leader replaces an owned entry pointing at a stale target", func(in *PlanInput) {
			in.Scope, in.Replace = nil, true
			in.Tables["vtb-1"] = append(in.Tables["vtb-1"], owned("vtb-1", "10.1.0.0/24", iA))
		}, "+vtb-1:10.1.0.0/24>i-bbb -vtb-1:10.1.0.0/24>i-aaa"},
		{"replace needs deletion allowed", func(in *PlanInput) {
			in.Scope, in.Replace, in.Policy = nil, true, PolicyUpsertOnly
			in.Tables["vtb-1"] = append(in.Tables["vtb-1"], owned("vtb-1", "10.1.0.0/24", iA))
		}, "!occupied:10.1.0.0/24"},
		{"replace never moves an unowned entry", func(in *PlanInput) {
			in.Scope, in.Replace = nil, true
			in.Tables["vtb-1"] = append(in.Tables["vtb-1"], foreign("vtb-1", "10.1.0.0/24", vpn, "office"))
		}, "!occupied:10.1.0.0/24"},
		{"no deletion without a cluster CIDR", func(in *PlanInput) {
			in.ClusterCIDR = netip.Prefix{}
			in.Tables["vtb-1"] = append(in.Tables["vtb-1"], owned("vtb-1", "10.9.0.0/24", iB))
		}, "x10.1.0.0/24"},
		{"owned-looking entry outside the cluster CIDR is never deleted", func(in *PlanInput) {
			in.Tables["vtb-1"] = append(in.Tables["vtb-1"], owned("vtb-1", "172.16.0.0/24", iB))
		}, "+vtb-1:10.1.0.0/24>i-bbb"},
		{"unowned entries are never deleted", func(in *PlanInput) {
			in.Desired = nil
			in.Tables["vtb-1"] = append(in.Tables["vtb-1"], foreign("vtb-1", "10.1.0.0/24", iB, "by hand"))
		}, ""},
		{"remove: desired empty deletes own entries only", func(in *PlanInput) {
			in.Desired = nil
			in.Tables["vtb-1"] = append(in.Tables["vtb-1"], owned("vtb-1", "10.1.0.0/24", iB), owned("vtb-1", "10.0.0.0/24", iA))
		}, "-vtb-1:10.1.0.0/24>i-bbb"},
		{"subnet overlapping the VPC CIDR is refused", func(in *PlanInput) {
			in.ClusterCIDR = pfx("192.168.0.0/16")
			in.Desired = []Desired{{pfx("192.168.5.0/24"), iB}}
		}, "x192.168.5.0/24"},
		{"subnet overlapping a vswitch is refused", func(in *PlanInput) {
			in.VPCCIDRs = nil
			in.ClusterCIDR = pfx("192.168.0.0/16")
			in.Desired = []Desired{{pfx("192.168.1.0/25"), iB}}
		}, "x192.168.1.0/25"},
		{"subnet outside the cluster CIDR is refused", func(in *PlanInput) {
			in.Desired = []Desired{{pfx("172.17.0.0/16"), iB}}
		}, "x172.17.0.0/16"},
		{"overlapping desired subnets: the later is refused", func(in *PlanInput) {
			in.Desired = append(in.Desired, Desired{pfx("10.1.0.0/16"), iA})
		}, "+vtb-1:10.1.0.0/24>i-bbb x10.1.0.0/16"},
		{"the same claim twice is one claim", func(in *PlanInput) {
			in.Desired = append(in.Desired, in.Desired[0])
		}, "+vtb-1:10.1.0.0/24>i-bbb"},
		{"system routes are never touched", func(in *PlanInput) {
			in.Scope = nil
			in.Tables["vtb-1"][0].Cluster = "prod"
		}, "+vtb-1:10.1.0.0/24>i-bbb"},
		{"system routes are never touched, even inside the cluster CIDR", func(in *PlanInput) {
			in.Scope = nil
			in.Tables["vtb-1"] = append(in.Tables["vtb-1"], cloud.Route{TableID: "vtb-1", Destination: pfx("10.5.0.0/24"),
				Target: cloud.Target{Kind: "local"}, System: true, Cluster: "prod", Status: cloud.StatusAvailable})
		}, "+vtb-1:10.1.0.0/24>i-bbb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := base()
			tt.modify(&in)
			if got := summary(Calculate(in)); got != tt.want {
				t.Errorf("plan = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestCalculateIsIdempotent applies a plan to the tables and plans again:
// the second plan must be empty.
func TestCalculateIsIdempotent(t *testing.T) {
	in := base()
	in.Tables["vtb-2"] = []cloud.Route{owned("vtb-2", "10.7.0.0/24", iB)}
	in.Desired = append(in.Desired, Desired{pfx("10.2.0.0/24"), iB})
	first := Calculate(in)
	if first.Empty() {
		t.Fatal("first plan is empty")
	}
	for _, d := range first.Delete {
		rs := in.Tables[d.TableID]
		for i, r := range rs {
			if r.Destination == d.Destination && r.Target == d.Target {
				in.Tables[d.TableID] = append(rs[:i:i], rs[i+1:]...)
				break
			}
		}
	}
	for _, c := range first.Create {
		c.Cluster = in.Cluster
		in.Tables[c.TableID] = append(in.Tables[c.TableID], c)
	}
	if second := Calculate(in); !second.Empty() || len(second.InSync) != 4 {
		t.Errorf("second plan = %q with %d in sync, want empty with 4", summary(second), len(second.InSync))
	}
}

func TestChangesJSON(t *testing.T) {
	ch := Calculate(base())
	b, err := json.Marshal(ch)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"create":[{"tableId":"vtb-1"`, `"destination":"10.1.0.0/24"`, `"target":{"kind":"Instance","id":"i-bbb"}`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON %s lacks %s", b, want)
		}
	}
}

func TestBlocked(t *testing.T) {
	in := base()
	in.Tables["vtb-1"] = append(in.Tables["vtb-1"], foreign("vtb-1", "10.1.0.128/25", vpn, "vpn"))
	if err := Calculate(in).Problem(); err != nil {
		t.Errorf("a shadow conflict must not block: %v", err)
	}
	in.Tables["vtb-1"] = append(in.Tables["vtb-1"], foreign("vtb-1", "10.1.0.0/24", vpn, "vpn"))
	if Calculate(in).Problem() == nil {
		t.Error("an occupied destination must block")
	}
}

func TestPolicyByName(t *testing.T) {
	if p, err := PolicyByName("sync"); err != nil || !p.AllowDelete() {
		t.Errorf("sync: %v %v", p, err)
	}
	if p, err := PolicyByName("upsert-only"); err != nil || p.AllowDelete() {
		t.Errorf("upsert-only: %v %v", p, err)
	}
	if _, err := PolicyByName("yolo"); err == nil || !strings.Contains(err.Error(), `policy "yolo" is invalid: expected one of sync, upsert-only`) {
		t.Errorf("err = %v", err)
	}
}
