package aws

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/cloud/sim"
)

// checkObserverMatchesSim compares what the provider's observer saw with
// what the simulator answered, action by action.
func checkObserverMatchesSim(t *testing.T, obs *countingObserver, st sim.Stats) {
	t.Helper()
	for action, outcomes := range st.Actions {
		ok, throttled, failed := 0, 0, 0
		for outcome, n := range outcomes {
			switch {
			case outcome == "ok":
				ok += n
			case throttledCode(outcome):
				throttled += n
			default:
				failed += n
			}
		}
		for outcome, want := range map[string]int{cloud.OutcomeOK: ok, cloud.OutcomeThrottled: throttled, cloud.OutcomeError: failed} {
			if got := obs.get(action + "/" + outcome); got != want {
				t.Errorf("%s/%s: observed %d, simulator answered %d", action, outcome, got, want)
			}
		}
	}
}

func TestSimRetriesTransientErrors(t *testing.T) {
	faults := []sim.FaultRule{
		{Action: "CreateRoute", Code: "RequestLimitExceeded", Count: 3},
		{Action: "CreateRoute", Code: "InternalError", Count: 1},
		{Action: "CreateRoute", Code: "Unavailable", Count: 1},
		{Action: "CreateRoute", Close: true, Count: 1},
		{Action: "DescribeRouteTables", Code: "RequestLimitExceeded", Count: 2},
		{Action: "DescribeNetworkInterfaces", Close: true, Count: 1},
		{Action: "ReplaceRoute", Code: "InternalError", Count: 1},
		{Action: "DeleteRoute", Code: "RequestLimitExceeded", Count: 1},
	}
	for _, fault := range faults {
		name := fault.Action + "/" + fault.Code
		if fault.Close {
			name = fault.Action + "/transport"
		}
		t.Run(name, func(t *testing.T) {
			ts := newSim(t, nil)
			prepare(t, ts, simInstA, simInstB)
			obs := &countingObserver{}
			p := simProvider(t, ts, simInstA, func(o *Options) { o.Observer = obs })
			ctx := context.Background()
			ts.ResetStats()
			if err := ts.AddFault(fault); err != nil {
				t.Fatal(err)
			}
			if err := p.CreateRoutes(ctx, simTable, []cloud.Route{simRoute("10.0.0.0/24", simENIB)}); err != nil {
				t.Fatalf("create: %v", err)
			}
			if err := p.ReplaceRoutes(ctx, simTable, []cloud.Route{simRoute("10.0.0.0/24", simENIA)}); err != nil {
				t.Fatalf("replace: %v", err)
			}
			if err := p.DeleteRoutes(ctx, simTable, []cloud.Route{simRoute("10.0.0.0/24", simENIA)}); err != nil {
				t.Fatalf("delete: %v", err)
			}
			if got := simOwned(t, p); len(got) != 0 {
				t.Errorf("owned = %v", got)
			}
			st := ts.Stats()
			if st.Errors(fault.Action) == 0 && !fault.Close {
				t.Errorf("the fault never fired: %v", st.Actions)
			}
			checkObserverMatchesSim(t, obs, st)
		})
	}
}

func TestSimFinalErrorsAreNotRetried(t *testing.T) {
	for _, code := range []string{"UnauthorizedOperation", "InvalidNetworkInterfaceID.NotFound", "InvalidParameterValue"} {
		t.Run(code, func(t *testing.T) {
			ts := newSim(t, nil)
			prepare(t, ts, simInstA)
			p := simProvider(t, ts, simInstA, nil)
			ts.ResetStats()
			if err := ts.AddFault(sim.FaultRule{Action: "CreateRoute", Code: code}); err != nil {
				t.Fatal(err)
			}
			err := p.CreateRoutes(context.Background(), simTable, []cloud.Route{simRoute("10.0.0.0/24", simENIA)})
			var api *APIError
			if !errors.As(err, &api) || api.Code != code {
				t.Errorf("err = %v, want code %s", err, code)
			}
			if n := ts.Stats().Calls("CreateRoute"); n != 1 {
				t.Errorf("CreateRoute sent %d times, want 1", n)
			}
		})
	}
}

// TestSimThrottlingStormConverges runs two hosts creating 20 routes each at
// once against a mutating bucket far smaller than the client's: EC2 says
// RequestLimitExceeded again and again, and every route still lands with
// no error surfaced.
func TestSimThrottlingStormConverges(t *testing.T) {
	ts := newSim(t, nil, sim.WithBehaviour(func(b *sim.Behaviour) {
		b.Throttle.Writes = sim.BucketSpec{Capacity: 4, RefillPerSecond: 10}
	}))
	prepare(t, ts, simInstA, simInstB)
	obs := &countingObserver{}
	ts.ResetStats()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, host := range []struct{ instance, eni string }{{simInstA, simENIA}, {simInstB, simENIB}} {
		p := simProvider(t, ts, host.instance, func(o *Options) { o.Observer = obs })
		var rs []cloud.Route
		for j := range 20 {
			rs = append(rs, simRoute(fmt.Sprintf("10.%d.%d.0/24", i, j), host.eni))
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = p.CreateRoutes(context.Background(), simTable, rs)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("errors surfaced: %v", err)
	}
	st := ts.Stats()
	if n := st.Count("CreateRoute", "RequestLimitExceeded"); n == 0 {
		t.Errorf("no call was throttled: not a storm (%v)", st.Actions)
	}
	if n := st.Count("CreateRoute", "ok"); n != 40 {
		t.Errorf("successful CreateRoute = %d, want 40", n)
	}
	if got := simOwned(t, simProvider(t, ts, simInstA, nil)); len(got) != 40 {
		t.Errorf("owned = %d routes, want 40", len(got))
	}
	checkObserverMatchesSim(t, obs, st)
	t.Logf("throttled answers: %d for 40 routes", st.Count("CreateRoute", "RequestLimitExceeded"))
}

// TestSimClientBucketAvoidsThrottling: with the client's bucket no larger
// than EC2's, the same writes are never refused.
func TestSimClientBucketAvoidsThrottling(t *testing.T) {
	ts := newSim(t, nil, sim.WithBehaviour(func(b *sim.Behaviour) {
		b.Throttle.Writes = sim.BucketSpec{Capacity: 4, RefillPerSecond: 20}
	}))
	prepare(t, ts, simInstA)
	// PrepareHost spent 2 of the 4 tokens just before: a client burst of
	// 2 at half the refill rate never finds the bucket empty.
	p := simProvider(t, ts, simInstA, func(o *Options) { o.MutatingRate, o.MutatingBurst = 10, 2 })
	var rs []cloud.Route
	for j := range 20 {
		rs = append(rs, simRoute(fmt.Sprintf("10.0.%d.0/24", j), simENIA))
	}
	ts.ResetStats()
	if err := p.CreateRoutes(context.Background(), simTable, rs); err != nil {
		t.Fatal(err)
	}
	if st := ts.Stats(); st.Count("CreateRoute", "RequestLimitExceeded") != 0 || st.Count("CreateRoute", "ok") != 20 {
		t.Errorf("CreateRoute answers = %v, want 20 ok and none throttled", st.Actions["CreateRoute"])
	}
}
