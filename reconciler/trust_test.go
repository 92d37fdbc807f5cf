package reconciler

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/cloud"
)

// Records are claims, not instructions: each case forges or breaks one
// record next to an honest host and checks the tables, the report and
// what the leader forgot.
func TestPassRefusesForgedRecords(t *testing.T) {
	ngwTarget := cloud.Target{Kind: "NatGateway", ID: "ngw-1"}
	retarget := func(h Host, t cloud.Target) Host { h.Target = t; return h }
	honest := host("i-aaa", 1, "10.1.0.0/24", 0)
	tests := []struct {
		name       string
		forged     Host
		unlisted   []string
		gone       []string
		want       string // tables after the pass
		wantReason string
		wantForget string
	}{
		{"target is a NAT gateway", retarget(host("i-ccc", 3, "10.66.0.0/24", 0), ngwTarget), nil, nil,
			"+vtb-1:10.1.0.0/24>i-aaa", `record says routes go to "NatGateway/ngw-1"`, ""},
		{"target is another host's instance", retarget(host("i-ccc", 3, "10.66.0.0/24", 0), iA), nil, nil,
			"+vtb-1:10.1.0.0/24>i-aaa", `record says routes go to "Instance/i-aaa", but the cloud says instance i-ccc is reached through Instance/i-ccc`, ""},
		{"instance that does not exist, pointing at a live one", retarget(host("i-ghost", 3, "10.66.0.0/24", 0), iA), nil, []string{"i-ghost"},
			"+vtb-1:10.1.0.0/24>i-aaa", "instance i-ghost is not listed by the cloud in this VPC", "i-ghost"},
		{"instance in another VPC", host("i-other-vpc", 3, "10.66.0.0/24", 0), []string{"i-other-vpc"}, nil,
			"+vtb-1:10.1.0.0/24>i-aaa", "instance i-other-vpc is not listed by the cloud in this VPC", ""},
		{"unreadable record", Host{Instance: "i-ccc", Order: 3, Problem: "record is not a valid host record: unexpected end of JSON input"}, nil, nil,
			"+vtb-1:10.1.0.0/24>i-aaa", "record is not a valid host record", ""},
		{"a claim dated 2000 on a live host's subnet", func() Host {
			h := host("i-ccc", 0, "10.1.0.0/24", 0) // registered first, too
			h.Subnets[0].Since = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
			return h
		}(), nil, nil, "+vtb-1:10.1.0.0/24>i-aaa", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake("vtb-1")
			f.put(owned("vtb-1", "10.1.0.0/24", iA))
			for _, id := range tt.unlisted {
				f.unlisted[id] = true
			}
			for _, id := range tt.gone {
				f.gone[id] = true
			}
			l, forgotten := newTestLoop(t, f, nil)
			for pass := range 2 {
				hosts := []Host{honest, tt.forged}
				if len(*forgotten) > 0 {
					hosts = hosts[:1] // the registry forgot it
				}
				rep := l.Pass(context.Background(), hosts, "registry")
				if got := f.state(); got != tt.want {
					t.Fatalf("pass %d: tables %q, want %q", pass, got, tt.want)
				}
				if rep.Result == ResultError {
					t.Fatalf("pass %d: error %s", pass, rep.Error)
				}
				if tt.wantReason == "" {
					if len(rep.RefusedHosts) != 0 || len(rep.ClaimConflicts) != 1 || rep.ClaimConflicts[0].Holder.Instance != "i-aaa" {
						t.Fatalf("pass %d: refused %+v, claim conflicts %+v; want i-aaa holding", pass, rep.RefusedHosts, rep.ClaimConflicts)
					}
					continue
				}
				if pass == 1 && tt.wantForget != "" {
					break
				}
				if len(rep.RefusedHosts) != 1 || rep.RefusedHosts[0].Instance != tt.forged.Instance ||
					!strings.Contains(rep.RefusedHosts[0].Reason, tt.wantReason) || rep.Result != ResultDegraded {
					t.Fatalf("pass %d: refused %+v (result %s), want %s refused: %s", pass, rep.RefusedHosts, rep.Result, tt.forged.Instance, tt.wantReason)
				}
			}
			if got := strings.Join(*forgotten, " "); got != tt.wantForget {
				t.Errorf("forgotten %q, want %q", got, tt.wantForget)
			}
		})
	}
}

// A refused record holding a route keeps it: refusing is not deleting, and
// another host's claim cannot move it away.
func TestPassRefusedHolderKeepsItsRoute(t *testing.T) {
	f := newFake("vtb-1")
	f.put(owned("vtb-1", "10.1.0.0/24", iA))
	l, forgotten := newTestLoop(t, f, nil)
	broken := host("i-aaa", 1, "10.1.0.0/24", 0)
	broken.Target = cloud.Target{Kind: "NatGateway", ID: "ngw-1"}
	rep := l.Pass(context.Background(), []Host{broken, host("i-bbb", 2, "10.1.0.0/24", 0)}, "registry")
	if got := f.state(); got != "+vtb-1:10.1.0.0/24>i-aaa" {
		t.Fatalf("tables %q: the refused host's route moved or went (report %+v)", got, rep)
	}
	if len(rep.Held) != 1 || !blocking(rep.Conflicts) || len(*forgotten) != 0 {
		t.Fatalf("held %+v, conflicts %+v, forgotten %v", rep.Held, rep.Conflicts, *forgotten)
	}
}

// The cloud is asked about each registered instance once, not every pass;
// again when a record starts stating another target; and an instance it
// could not verify is refused for the pass, while verified ones go on.
func TestPassVerifiesInstancesOnceAndDegradesSafely(t *testing.T) {
	f := newFake("vtb-1")
	l, _ := newTestLoop(t, f, nil)
	hosts := []Host{host("i-aaa", 1, "10.1.0.0/24", 0), host("i-bbb", 2, "10.2.0.0/24", 0)}
	l.Pass(context.Background(), hosts, "start")
	if c := f.calls0(); c["InstanceTargets"] != 1 {
		t.Fatalf("first pass: %d InstanceTargets calls, want 1", c["InstanceTargets"])
	}
	l.Pass(context.Background(), hosts, "resync")
	if c := f.calls0(); c["InstanceTargets"] != 0 {
		t.Fatalf("steady pass asked the cloud again: %v", c)
	}
	forged := append([]Host{}, hosts...)
	forged[1].Target = iA
	for range 3 {
		rep := l.Pass(context.Background(), forged, "registry")
		if len(rep.RefusedHosts) != 1 || rep.RefusedHosts[0].Instance != "i-bbb" {
			t.Fatalf("refused %+v", rep.RefusedHosts)
		}
	}
	if c := f.calls0(); c["InstanceTargets"] != 1 {
		t.Fatalf("a changed stated target is verified once, not every pass: %v", c)
	}

	f.targetsErr = errors.New("Throttling")
	withNew := append(append([]Host{}, hosts...), host("i-ccc", 3, "10.3.0.0/24", 0))
	rep := l.Pass(context.Background(), withNew, "registry")
	if len(rep.RefusedHosts) != 1 || rep.RefusedHosts[0].Instance != "i-ccc" || !strings.Contains(rep.RefusedHosts[0].Reason, "not verified with the cloud yet") {
		t.Fatalf("refused %+v", rep.RefusedHosts)
	}
	if got := f.state(); got != "+vtb-1:10.1.0.0/24>i-aaa +vtb-1:10.2.0.0/24>i-bbb" {
		t.Fatalf("tables %q: verified hosts must keep their routes, the unverified one gets none", got)
	}
}
