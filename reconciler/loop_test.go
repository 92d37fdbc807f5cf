package reconciler

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/cloud"
)

func newTestLoop(t *testing.T, f *fakeProvider, mod func(*LoopConfig)) (*Loop, *[]string) {
	t.Helper()
	var forgotten []string
	cfg := LoopConfig{Cluster: "prod", ClusterCIDR: pfx("10.0.0.0/8"), Provider: f, Identity: "i-leader",
		Now: func() time.Time { return t0 }, SilentAfter: time.Minute,
		Forget: func(_ context.Context, id string) error { forgotten = append(forgotten, id); return nil }}
	if mod != nil {
		mod(&cfg)
	}
	l, err := NewLoop(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return l, &forgotten
}

// seedSilence makes the loop believe it saw every host whose LastSeen is
// older than t0 unchanged since that time: the leader's own observation,
// which is what silence is measured by (the record's LastSeen is not).
func seedSilence(l *Loop, hosts []Host) {
	var old []Host
	for _, h := range hosts {
		if h.LastSeen.Before(t0) {
			old = append(old, h)
		}
	}
	for _, h := range old {
		l.silence[h.Instance] = silenceMark{revision: h.Revision, at: h.LastSeen}
	}
}

func TestPassCreatesEveryClaimInEveryTable(t *testing.T) {
	f := newFake("vtb-1", "vtb-2")
	l, _ := newTestLoop(t, f, nil)
	rep := l.Pass(context.Background(), []Host{host("i-aaa", 1, "10.1.0.0/24", 0), host("i-bbb", 2, "10.2.0.0/24", 0)}, "start")
	if rep.Result != ResultOK || rep.Created != 4 || rep.Deleted != 0 {
		t.Fatalf("report: %+v", rep)
	}
	want := "+vtb-1:10.1.0.0/24>i-aaa +vtb-1:10.2.0.0/24>i-bbb +vtb-2:10.1.0.0/24>i-aaa +vtb-2:10.2.0.0/24>i-bbb"
	if got := f.state(); got != want {
		t.Fatalf("tables: %s", got)
	}
	if len(rep.Tables) != 2 || rep.Tables[0].Desired != 2 || rep.Tables[0].Actual != 2 {
		t.Errorf("table report: %+v", rep.Tables)
	}
	// Steady state: one list per table, no network re-read, no writes.
	f.calls0()
	rep = l.Pass(context.Background(), []Host{host("i-aaa", 1, "10.1.0.0/24", 0), host("i-bbb", 2, "10.2.0.0/24", 0)}, "resync")
	if c := f.calls0(); c["Routes"] != 2 || len(c) != 1 || rep.Result != ResultOK {
		t.Errorf("steady-state pass made calls %v (want exactly 2 Routes), result %s", c, rep.Result)
	}
}

func TestPassDeletionSafety(t *testing.T) {
	fresh := func(id string, order int64, subnet string) Host { return host(id, order, subnet, 0) }
	silent := func(h Host) Host { h.LastSeen = t0.Add(-time.Hour); return h }
	tests := []struct {
		name       string
		routes     []cloud.Route
		hosts      []Host
		gone       []string
		goneErr    error
		want       string
		wantHeld   string
		wantForget string
	}{
		{"silent host keeps its route", []cloud.Route{owned("vtb-1", "10.1.0.0/24", iA)},
			[]Host{silent(fresh("i-aaa", 1, "10.1.0.0/24"))}, nil, nil,
			"+vtb-1:10.1.0.0/24>i-aaa", "", ""},
		{"silent host confirmed gone: route deleted, record forgotten", []cloud.Route{owned("vtb-1", "10.1.0.0/24", iA)},
			[]Host{silent(fresh("i-aaa", 1, "10.1.0.0/24"))}, []string{"i-aaa"}, nil,
			"", "", "i-aaa"},
		{"wiped registry: nothing deleted", []cloud.Route{owned("vtb-1", "10.1.0.0/24", iA), owned("vtb-1", "10.2.0.0/24", iB)},
			nil, nil, nil,
			"+vtb-1:10.1.0.0/24>i-aaa +vtb-1:10.2.0.0/24>i-bbb", "10.1.0.0/24:instance-not-confirmed-gone 10.2.0.0/24:instance-not-confirmed-gone", ""},
		{"cloud cannot tell: nothing deleted, creations still made", []cloud.Route{owned("vtb-1", "10.1.0.0/24", iA)},
			[]Host{fresh("i-bbb", 2, "10.2.0.0/24")}, []string{"i-aaa"}, errors.New("throttled"),
			"+vtb-1:10.1.0.0/24>i-aaa +vtb-1:10.2.0.0/24>i-bbb", "10.1.0.0/24:instance-not-confirmed-gone", ""},
		{"unregistered and gone: deleted", []cloud.Route{owned("vtb-1", "10.1.0.0/24", iA)},
			[]Host{fresh("i-bbb", 2, "10.2.0.0/24")}, []string{"i-aaa"}, nil,
			"+vtb-1:10.2.0.0/24>i-bbb", "", ""},
		{"later claim waits while the holder lives", []cloud.Route{owned("vtb-1", "10.1.0.0/24", iA)},
			[]Host{silent(fresh("i-aaa", 1, "10.1.0.0/24")), host("i-bbb", 2, "10.1.0.0/24", time.Second)}, nil, nil,
			"+vtb-1:10.1.0.0/24>i-aaa", "", ""},
		{"later claim takes over once the holder is gone", []cloud.Route{owned("vtb-1", "10.1.0.0/24", iA)},
			[]Host{silent(fresh("i-aaa", 1, "10.1.0.0/24")), host("i-bbb", 2, "10.1.0.0/24", time.Second)}, []string{"i-aaa"}, nil,
			"+vtb-1:10.1.0.0/24>i-bbb", "", "i-aaa"},
		{"unowned entries untouched", []cloud.Route{foreign("vtb-1", "10.1.0.0/24", vpn, "office"), foreign("vtb-1", "0.0.0.0/0", ngw, "nat")},
			nil, nil, nil,
			"+vtb-1:0.0.0.0/0>ngw-1 +vtb-1:10.1.0.0/24>vpn-1", "", ""},
		{"mass deletion held", []cloud.Route{owned("vtb-1", "10.1.0.0/24", iA), owned("vtb-1", "10.2.0.0/24", iA),
			owned("vtb-1", "10.3.0.0/24", iA), owned("vtb-1", "10.4.0.0/24", iA), owned("vtb-1", "10.5.0.0/24", iB)},
			[]Host{fresh("i-bbb", 2, "10.5.0.0/24")}, []string{"i-aaa"}, nil,
			"+vtb-1:10.1.0.0/24>i-aaa +vtb-1:10.2.0.0/24>i-aaa +vtb-1:10.3.0.0/24>i-aaa +vtb-1:10.4.0.0/24>i-aaa +vtb-1:10.5.0.0/24>i-bbb",
			"10.1.0.0/24:mass-delete-guard 10.2.0.0/24:mass-delete-guard 10.3.0.0/24:mass-delete-guard 10.4.0.0/24:mass-delete-guard", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake("vtb-1")
			for _, r := range tt.routes {
				f.put(r)
			}
			for _, g := range tt.gone {
				f.gone[g] = true
			}
			f.goneErr = tt.goneErr
			l, forgotten := newTestLoop(t, f, nil)
			seedSilence(l, tt.hosts)
			rep := l.Pass(context.Background(), tt.hosts, "start")
			if got := f.state(); got != tt.want {
				t.Errorf("tables: got  %q\n             want %q", got, tt.want)
			}
			var held []string
			for _, h := range rep.Held {
				held = append(held, h.Route.Destination.String()+":"+h.Reason)
			}
			if got := strings.Join(held, " "); got != tt.wantHeld {
				t.Errorf("held: got %q, want %q", got, tt.wantHeld)
			}
			if got := strings.Join(*forgotten, " "); got != tt.wantForget {
				t.Errorf("forgotten: got %q, want %q", got, tt.wantForget)
			}
			if rep.Result == ResultError {
				t.Errorf("result error: %s", rep.Error)
			}
		})
	}
}

func TestPassSelfModeTouchesOnlyItsOwnRoutes(t *testing.T) {
	f := newFake("vtb-1")
	f.put(owned("vtb-1", "10.1.0.0/24", iA))
	f.put(owned("vtb-1", "10.9.0.0/24", iB)) // this host's old bip
	l, _ := newTestLoop(t, f, func(c *LoopConfig) { c.Scope = []cloud.Target{iB} })
	rep := l.Pass(context.Background(), []Host{host("i-bbb", 0, "10.2.0.0/24", 0)}, "start")
	if got, want := f.state(), "+vtb-1:10.1.0.0/24>i-aaa +vtb-1:10.2.0.0/24>i-bbb"; got != want {
		t.Fatalf("tables: %s, want %s (report %+v)", got, want, rep)
	}
	if c := f.calls0(); c["GoneTargets"] != 0 {
		t.Errorf("self mode asked the cloud about other instances: %v", c)
	}
}

func TestPassReportsClaimConflictsWithoutFlapping(t *testing.T) {
	f := newFake("vtb-1")
	l, _ := newTestLoop(t, f, nil)
	hosts := []Host{host("i-aaa", 1, "10.1.0.0/24", 0), host("i-bbb", 2, "10.1.0.0/25", time.Second)}
	for i := range 3 {
		rep := l.Pass(context.Background(), hosts, "registry")
		if rep.Result != ResultDegraded || len(rep.ClaimConflicts) != 1 || rep.ClaimConflicts[0].Refused.Instance != "i-bbb" {
			t.Fatalf("pass %d: %+v", i, rep)
		}
		if got := f.state(); got != "+vtb-1:10.1.0.0/24>i-aaa" {
			t.Fatalf("pass %d: tables %s", i, got)
		}
	}
}

// TestRunDebouncesAndIgnoresHeartbeats: a burst of registry changes is one
// pass; a heartbeat (LastSeen only) is none.
func TestRunDebouncesAndIgnoresHeartbeats(t *testing.T) {
	f := newFake("vtb-1")
	var mu sync.Mutex
	var reports []Report
	l, _ := newTestLoop(t, f, func(c *LoopConfig) {
		c.Now = time.Now
		// Long against the burst's 10 ms steps: a loaded machine may
		// stretch a step to tens of milliseconds (seen at 100 ms).
		c.Debounce = time.Second
		c.Resync = time.Hour
		c.OnReport = func(r Report) { mu.Lock(); reports = append(reports, r); mu.Unlock() }
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	feed := NewHostFeed()
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx, feed.C()) }()
	now := func(h Host) Host { h.LastSeen = time.Now(); return h }
	hosts := []Host{now(host("i-aaa", 1, "10.1.0.0/24", 0))}
	feed.Send(hosts)
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(reports) == 1 })
	for i := range 5 { // a burst: hosts joining one after another
		hosts = append(hosts, now(host("i-"+string(rune('b'+i)), int64(i+2), "10."+string(rune('2'+i))+".0.0/24", 0)))
		feed.Send(hosts)
		time.Sleep(10 * time.Millisecond)
	}
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(reports) == 2 })
	for range 3 { // heartbeats
		hb := make([]Host, len(hosts))
		for i, h := range hosts {
			hb[i] = now(h)
		}
		feed.Send(hb)
		time.Sleep(150 * time.Millisecond)
	}
	mu.Lock()
	n, last := len(reports), reports[len(reports)-1]
	mu.Unlock()
	if n != 2 || last.Trigger != "registry" || last.Created != 5 {
		t.Fatalf("passes: %d (want 2: start, one debounced registry pass), last %+v", n, last)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// replacingProvider is a fakeProvider that moves routes atomically.
type replacingProvider struct {
	*fakeProvider
	replaced []string
}

func (r *replacingProvider) ReplaceRoutes(_ context.Context, table string, rs []cloud.Route) error {
	r.count("ReplaceRoutes")
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range rs {
		for i, e := range r.tables[table] {
			if e.Destination == n.Destination {
				r.tables[table][i].Target = n.Target
				r.replaced = append(r.replaced, n.Destination.String()+">"+n.Target.ID)
			}
		}
	}
	return nil
}

// TestPassMovesWithReplaceWhenTheProviderCan: a takeover is one atomic
// replace, never a deletion followed by a creation.
func TestPassMovesWithReplaceWhenTheProviderCan(t *testing.T) {
	f := &replacingProvider{fakeProvider: newFake("vtb-1")}
	f.put(owned("vtb-1", "10.1.0.0/24", iA))
	f.put(owned("vtb-1", "10.2.0.0/24", iA))
	f.gone["i-aaa"] = true
	l, err := NewLoop(LoopConfig{Cluster: "prod", ClusterCIDR: pfx("10.0.0.0/8"), Provider: f, Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	rep := l.Pass(context.Background(), []Host{host("i-bbb", 2, "10.1.0.0/24", 0)}, "start")
	if rep.Result != ResultOK {
		t.Fatalf("report %+v", rep)
	}
	calls := f.calls0()
	if calls["ReplaceRoutes"] != 1 || calls["CreateRoutes"] != 0 || calls["DeleteRoutes"] != 1 {
		t.Errorf("calls %v: want one replace (10.1.0.0/24) and one delete (10.2.0.0/24)", calls)
	}
	if got := f.state(); got != "+vtb-1:10.1.0.0/24>i-bbb" {
		t.Errorf("tables: %s", got)
	}
}

// TestPassAsksAtOnceAboutABlackhole: a route the cloud reports as a
// blackhole gets its target checked without waiting for SilentAfter.
func TestPassAsksAtOnceAboutABlackhole(t *testing.T) {
	f := newFake("vtb-1")
	r := owned("vtb-1", "10.1.0.0/24", iA)
	r.Status = cloud.StatusBlackhole
	f.put(r)
	f.gone["i-aaa"] = true
	l, forgotten := newTestLoop(t, f, nil)
	rep := l.Pass(context.Background(), []Host{host("i-aaa", 1, "10.1.0.0/24", 0)}, "resync") // not silent
	if got := f.state(); got != "" || rep.Deleted != 1 || strings.Join(*forgotten, " ") != "i-aaa" {
		t.Fatalf("tables %q, report %+v, forgotten %v", got, rep, *forgotten)
	}
}

// TestPassRefusesClusterInsideVPC: a VPC that gained a CIDR around the
// cluster CIDR after start gets no write at all, not even a deletion.
func TestPassRefusesClusterInsideVPC(t *testing.T) {
	f := newFake("vtb-1")
	f.tables["vtb-1"] = []cloud.Route{owned("vtb-1", "10.9.0.0/24", iB)}
	f.network.CIDRs = append(f.network.CIDRs, pfx("10.0.0.0/8"))
	f.gone["i-bbb"] = true
	l, _ := newTestLoop(t, f, nil)
	rep := l.Pass(context.Background(), []Host{host("i-aaa", 1, "10.1.0.0/24", 0)}, "start")
	want := `cluster-cidr "10.0.0.0/8" lies inside the VPC CIDR 10.0.0.0/8: expected a range outside the VPC, e.g. 172.16.0.0/12`
	if rep.Result != ResultError || rep.Error != want {
		t.Errorf("result %s, error %q; want error %q", rep.Result, rep.Error, want)
	}
	if c := f.calls0(); c["CreateRoutes"]+c["DeleteRoutes"] != 0 {
		t.Errorf("writes: %v", c)
	}
	if got := f.state(); got != "+vtb-1:10.9.0.0/24>i-bbb" {
		t.Errorf("tables: %s", got)
	}
}

func TestNewLoopRefusesBroadClusterCIDR(t *testing.T) {
	_, err := NewLoop(LoopConfig{Cluster: "prod", ClusterCIDR: pfx("0.0.0.0/0"), Provider: newFake()})
	want := `reconcile loop: cluster-cidr "0.0.0.0/0" is too broad: expected /8 or longer, e.g. 10.0.0.0/8, 172.16.0.0/12`
	if err == nil || err.Error() != want {
		t.Errorf("NewLoop = %v, want %q", err, want)
	}
}
