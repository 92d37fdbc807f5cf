package aliyun

import (
	"context"
	"maps"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/cloud/sim"
)

// recorder is a cloud.CallObserver that keeps every observation.
type recorder struct {
	mu    sync.Mutex
	calls map[string]map[string]int
	took  map[string][]time.Duration
}

func newRecorder() *recorder {
	return &recorder{calls: map[string]map[string]int{}, took: map[string][]time.Duration{}}
}

func (r *recorder) ObserveCall(action, outcome string, took time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.calls[action] == nil {
		r.calls[action] = map[string]int{}
	}
	r.calls[action][outcome]++
	r.took[action] = append(r.took[action], took)
}

func (r *recorder) count(action, outcome string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[action][outcome]
}

func (r *recorder) total(action string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.calls[action] {
		n += c
	}
	return n
}

func (r *recorder) actions() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Sorted(maps.Keys(r.calls))
}

// apiActions lists the methods of the narrow SDK interfaces: every action
// vpcroute may call.
func apiActions() (vpcActions, ecsActions []string) {
	names := func(t reflect.Type) []string {
		var out []string
		for i := range t.NumMethod() {
			out = append(out, t.Method(i).Name)
		}
		return out
	}
	return names(reflect.TypeFor[vpcAPI]()), names(reflect.TypeFor[ecsAPI]())
}

func observedProvider(t *testing.T, f *fixture, instance string, obs cloud.CallObserver) *Provider {
	t.Helper()
	t.Setenv(envAccessKeyID, "LTAI-test")
	t.Setenv(envAccessKeySecret, "test-secret")
	p, err := New(context.Background(), Options{
		Settings: cloud.Settings{
			Endpoint:         f.url,
			MetadataEndpoint: f.url + "/sim/v1/instances/" + instance,
			RetryTimeout:     20 * time.Second,
			Observer:         obs,
			Cluster:          testCluster,
		},
		ChangeTimeout: 10 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestObserverSeesEveryCall drives every action of the provider, with
// failures that are retried, and compares what the observer was told with
// what the simulator served.
func TestObserverSeesEveryCall(t *testing.T) {
	f := newFixture(t, nil)
	rec := newRecorder()
	p := observedProvider(t, f, "i-aaa", rec)
	faults := []sim.FaultRule{
		{Action: "CreateRouteEntry", Code: "TaskConflict", Count: 1},
		{Action: "CreateRouteEntries", Code: "IncorrectRouteEntryStatus", Count: 1},
		{Action: "DescribeRouteEntryList", Code: "Throttling", Count: 1, DelayMillis: 60},
		{Action: "DescribeInstances", Code: "Throttling.User", Count: 2},
		{Action: "DeleteRouteEntry", Code: "ServiceUnavailable", Count: 1},
		{Action: "DescribeVSwitches", Close: true, Count: 1},
	}
	for _, fault := range faults {
		if err := f.sim.AddFault(fault); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	if _, err := p.Network(ctx); err != nil {
		t.Fatal(err)
	}
	one := []cloud.Route{route("10.0.0.0/24", "i-aaa")}
	three := []cloud.Route{route("10.1.0.0/24", "i-bbb"), route("10.2.0.0/24", "i-bbb"), route("10.3.0.0/24", "i-bbb")}
	if err := p.CreateRoutes(ctx, "vtb-lab", one); err != nil {
		t.Fatal(err)
	}
	if err := p.CreateRoutes(ctx, "vtb-lab", three); err != nil {
		t.Fatal(err)
	}
	if _, err := p.GoneTargets(ctx, []cloud.Target{instanceTarget("i-aaa"), instanceTarget("i-zzz")}); err != nil {
		t.Fatal(err)
	}
	if err := p.DeleteRoutes(ctx, "vtb-lab", one); err != nil {
		t.Fatal(err)
	}
	if err := p.DeleteRoutes(ctx, "vtb-lab", three); err != nil {
		t.Fatal(err)
	}

	st := f.sim.Stats()
	vpcActions, ecsActions := apiActions()
	want := slices.Sorted(slices.Values(append(vpcActions, ecsActions...)))
	if got := rec.actions(); !slices.Equal(got, want) {
		t.Errorf("observed actions = %v, want every API action %v", got, want)
	}
	for _, action := range want {
		if rec.total(action) != st.Calls(action) {
			t.Errorf("%s: observed %d calls, simulator served %d (%v)", action, rec.total(action), st.Calls(action), st.Actions[action])
		}
		if rec.count(action, cloud.OutcomeOK) != st.Count(action, "ok") {
			t.Errorf("%s: observed %d ok, simulator %d", action, rec.count(action, cloud.OutcomeOK), st.Count(action, "ok"))
		}
	}
	for _, c := range []struct {
		action, outcome string
		want            int
	}{
		{"CreateRouteEntry", cloud.OutcomeBusy, 1},
		{"CreateRouteEntries", cloud.OutcomeBusy, 1},
		{"DescribeRouteEntryList", cloud.OutcomeThrottled, 1},
		{"DescribeInstances", cloud.OutcomeThrottled, 2},
		{"DescribeInstances", cloud.OutcomeOK, 1},
		{"DeleteRouteEntry", cloud.OutcomeError, 1},
		{"DescribeVSwitches", cloud.OutcomeError, 1},
	} {
		if got := rec.count(c.action, c.outcome); got != c.want {
			t.Errorf("%s %s = %d, want %d", c.action, c.outcome, got, c.want)
		}
	}
	// The delayed throttling answer took at least its delay; the time
	// measured is the call's, so it is never zero.
	if slices.Max(rec.took["DescribeRouteEntryList"]) < 60*time.Millisecond {
		t.Errorf("DescribeRouteEntryList durations %v: none covers the 60ms delayed answer", rec.took["DescribeRouteEntryList"])
	}
	for action, ds := range rec.took {
		if slices.Min(ds) <= 0 {
			t.Errorf("%s: a duration is %v", action, slices.Min(ds))
		}
	}
}

func TestNilObserverIsNop(t *testing.T) {
	f := newFixture(t, nil)
	p := observedProvider(t, f, "i-aaa", nil)
	if _, err := p.GoneTargets(context.Background(), []cloud.Target{instanceTarget("i-aaa")}); err != nil {
		t.Fatal(err)
	}
	if n := f.sim.Stats().Calls("DescribeInstances"); n != 1 {
		t.Errorf("calls = %d", n)
	}
}
