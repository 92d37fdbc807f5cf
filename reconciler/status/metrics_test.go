package status

import (
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/reconciler"
)

// vpcrouteMetrics is every metric name Metrics registers, for comparisons
// that must cover them all.
var vpcrouteMetrics = []string{
	"vpcroute_reconcile_duration_seconds",
	"vpcroute_reconcile_last_success_timestamp_seconds",
	"vpcroute_routes",
	"vpcroute_route_changes_total",
	"vpcroute_claim_conflicts",
	"vpcroute_held_deletes",
	"vpcroute_cloud_api_calls_total",
	"vpcroute_cloud_api_throttles_total",
	"vpcroute_cloud_api_call_duration_seconds",
	"vpcroute_is_leader",
	"vpcroute_registered_hosts",
	"vpcroute_host_config_applies_total",
	"vpcroute_host_config_changes_total",
	"vpcroute_registry_up",
	"vpcroute_build_info",
}

func held(table, dest, reason string) reconciler.Held {
	return reconciler.Held{Route: reconciler.RouteRef{TableID: table, Destination: netip.MustParsePrefix(dest), Target: "Instance/i-x"}, Reason: reason}
}

// Durations are binary fractions so that the expected sums are exact.
var (
	start1 = time.Unix(1748779200, 0)
	start3 = time.Unix(1748779500, 0)
	// r1: a completed pass over two tables.
	r1 = reconciler.Report{Result: reconciler.ResultOK, Started: start1, Duration: 1500 * time.Millisecond, Created: 2,
		Tables: []reconciler.TableReport{
			{ID: "vtb-a", Desired: 3, Actual: 3, Pending: 1, Conflicts: 0},
			{ID: "vtb-b", Desired: 3, Actual: 2, Pending: 0, Conflicts: 1},
		},
		ClaimConflicts: []reconciler.ClaimConflict{{}},
		Held:           []reconciler.Held{held("vtb-a", "10.9.0.0/24", reconciler.HeldNotGone), held("vtb-a", "10.8.0.0/24", "some-new-reason")},
	}
	// r2: a failed pass that listed only vtb-a and deleted one route
	// before failing.
	r2 = reconciler.Report{Result: reconciler.ResultError, Started: start1.Add(time.Minute), Duration: 250 * time.Millisecond, Deleted: 1,
		Tables: []reconciler.TableReport{{ID: "vtb-a", Desired: 3, Actual: 2, Pending: 0, Conflicts: 0}},
	}
	// r3: a degraded pass; vtb-b is no longer managed.
	r3 = reconciler.Report{Result: reconciler.ResultDegraded, Started: start3, Duration: 62500 * time.Microsecond, Created: 1,
		Tables: []reconciler.TableReport{{ID: "vtb-a", Desired: 4, Actual: 4, Pending: 1, Conflicts: 2}},
		Held:   []reconciler.Held{held("vtb-a", "10.7.0.0/24", reconciler.HeldMassDelete), held("vtb-a", "10.6.0.0/24", reconciler.HeldMassDelete)},
	}
)

func TestMetricsExposition(t *testing.T) {
	m := NewMetrics("1.4.0")
	m.SetLeader(true)
	m.SetRegisteredHosts(3)
	m.SetRegistryUp(true)
	m.ObserveHostConfigApply(true, nil)
	m.ObserveHostConfigApply(false, nil)
	m.ObserveHostConfigApply(false, errors.New("iptables: exit status 4"))
	m.ObserveCall("DescribeRouteEntryList", cloud.OutcomeOK, 31250*time.Microsecond)
	m.ObserveCall("DescribeRouteEntryList", cloud.OutcomeOK, 31250*time.Microsecond)
	m.ObserveCall("CreateRouteEntries", cloud.OutcomeThrottled, 62500*time.Microsecond)
	m.ObserveCall("CreateRouteEntries", cloud.OutcomeOK, 250*time.Millisecond)

	m.ObserveReport(r1)
	m.ObserveReport(r2)
	// After a failed pass: vtb-a's gauges follow the failed pass, vtb-b and
	// the claim conflict stay as the completed pass left them.
	compare(t, m, `
# HELP vpcroute_routes Routes of this cluster per managed route table in the last pass, by state (desired, actual, pending, conflict).
# TYPE vpcroute_routes gauge
vpcroute_routes{state="actual",table="vtb-a"} 2
vpcroute_routes{state="conflict",table="vtb-a"} 0
vpcroute_routes{state="desired",table="vtb-a"} 3
vpcroute_routes{state="pending",table="vtb-a"} 0
vpcroute_routes{state="actual",table="vtb-b"} 2
vpcroute_routes{state="conflict",table="vtb-b"} 1
vpcroute_routes{state="desired",table="vtb-b"} 3
vpcroute_routes{state="pending",table="vtb-b"} 0
# HELP vpcroute_claim_conflicts Overlapping subnet claims refused in the last pass.
# TYPE vpcroute_claim_conflicts gauge
vpcroute_claim_conflicts 1
# HELP vpcroute_held_deletes Owned routes that looked stale but were not deleted in the last pass, by reason.
# TYPE vpcroute_held_deletes gauge
vpcroute_held_deletes{reason="instance-not-confirmed-gone"} 1
vpcroute_held_deletes{reason="mass-delete-guard"} 0
vpcroute_held_deletes{reason="some-new-reason"} 1
# HELP vpcroute_reconcile_last_success_timestamp_seconds Unix time at which the last completed (ok or degraded) reconcile pass of this process ended; 0 if none.
# TYPE vpcroute_reconcile_last_success_timestamp_seconds gauge
vpcroute_reconcile_last_success_timestamp_seconds 1.7487792015e+09
`, "vpcroute_routes", "vpcroute_claim_conflicts", "vpcroute_held_deletes", "vpcroute_reconcile_last_success_timestamp_seconds")

	m.ObserveReport(r3)
	compare(t, m, `
# HELP vpcroute_build_info Always 1; the version label is this process's vpcroute version.
# TYPE vpcroute_build_info gauge
vpcroute_build_info{version="1.4.0"} 1
# HELP vpcroute_claim_conflicts Overlapping subnet claims refused in the last pass.
# TYPE vpcroute_claim_conflicts gauge
vpcroute_claim_conflicts 0
# HELP vpcroute_cloud_api_call_duration_seconds Duration of one cloud API call, by action.
# TYPE vpcroute_cloud_api_call_duration_seconds histogram
vpcroute_cloud_api_call_duration_seconds_bucket{action="CreateRouteEntries",le="0.005"} 0
vpcroute_cloud_api_call_duration_seconds_bucket{action="CreateRouteEntries",le="0.01"} 0
vpcroute_cloud_api_call_duration_seconds_bucket{action="CreateRouteEntries",le="0.025"} 0
vpcroute_cloud_api_call_duration_seconds_bucket{action="CreateRouteEntries",le="0.05"} 0
vpcroute_cloud_api_call_duration_seconds_bucket{action="CreateRouteEntries",le="0.1"} 1
vpcroute_cloud_api_call_duration_seconds_bucket{action="CreateRouteEntries",le="0.25"} 2
vpcroute_cloud_api_call_duration_seconds_bucket{action="CreateRouteEntries",le="0.5"} 2
vpcroute_cloud_api_call_duration_seconds_bucket{action="CreateRouteEntries",le="1"} 2
vpcroute_cloud_api_call_duration_seconds_bucket{action="CreateRouteEntries",le="2.5"} 2
vpcroute_cloud_api_call_duration_seconds_bucket{action="CreateRouteEntries",le="5"} 2
vpcroute_cloud_api_call_duration_seconds_bucket{action="CreateRouteEntries",le="10"} 2
vpcroute_cloud_api_call_duration_seconds_bucket{action="CreateRouteEntries",le="30"} 2
vpcroute_cloud_api_call_duration_seconds_bucket{action="CreateRouteEntries",le="+Inf"} 2
vpcroute_cloud_api_call_duration_seconds_sum{action="CreateRouteEntries"} 0.3125
vpcroute_cloud_api_call_duration_seconds_count{action="CreateRouteEntries"} 2
vpcroute_cloud_api_call_duration_seconds_bucket{action="DescribeRouteEntryList",le="0.005"} 0
vpcroute_cloud_api_call_duration_seconds_bucket{action="DescribeRouteEntryList",le="0.01"} 0
vpcroute_cloud_api_call_duration_seconds_bucket{action="DescribeRouteEntryList",le="0.025"} 0
vpcroute_cloud_api_call_duration_seconds_bucket{action="DescribeRouteEntryList",le="0.05"} 2
vpcroute_cloud_api_call_duration_seconds_bucket{action="DescribeRouteEntryList",le="0.1"} 2
vpcroute_cloud_api_call_duration_seconds_bucket{action="DescribeRouteEntryList",le="0.25"} 2
vpcroute_cloud_api_call_duration_seconds_bucket{action="DescribeRouteEntryList",le="0.5"} 2
vpcroute_cloud_api_call_duration_seconds_bucket{action="DescribeRouteEntryList",le="1"} 2
vpcroute_cloud_api_call_duration_seconds_bucket{action="DescribeRouteEntryList",le="2.5"} 2
vpcroute_cloud_api_call_duration_seconds_bucket{action="DescribeRouteEntryList",le="5"} 2
vpcroute_cloud_api_call_duration_seconds_bucket{action="DescribeRouteEntryList",le="10"} 2
vpcroute_cloud_api_call_duration_seconds_bucket{action="DescribeRouteEntryList",le="30"} 2
vpcroute_cloud_api_call_duration_seconds_bucket{action="DescribeRouteEntryList",le="+Inf"} 2
vpcroute_cloud_api_call_duration_seconds_sum{action="DescribeRouteEntryList"} 0.0625
vpcroute_cloud_api_call_duration_seconds_count{action="DescribeRouteEntryList"} 2
# HELP vpcroute_cloud_api_calls_total Cloud API calls sent by this process, retries included, by action and outcome (ok, throttled, busy, error).
# TYPE vpcroute_cloud_api_calls_total counter
vpcroute_cloud_api_calls_total{action="CreateRouteEntries",outcome="ok"} 1
vpcroute_cloud_api_calls_total{action="CreateRouteEntries",outcome="throttled"} 1
vpcroute_cloud_api_calls_total{action="DescribeRouteEntryList",outcome="ok"} 2
# HELP vpcroute_cloud_api_throttles_total Cloud API calls refused for the cloud's rate limit, by action.
# TYPE vpcroute_cloud_api_throttles_total counter
vpcroute_cloud_api_throttles_total{action="CreateRouteEntries"} 1
# HELP vpcroute_held_deletes Owned routes that looked stale but were not deleted in the last pass, by reason.
# TYPE vpcroute_held_deletes gauge
vpcroute_held_deletes{reason="instance-not-confirmed-gone"} 0
vpcroute_held_deletes{reason="mass-delete-guard"} 2
# HELP vpcroute_host_config_applies_total Applies of this host's ip_forward and iptables configuration, by result (ok, error).
# TYPE vpcroute_host_config_applies_total counter
vpcroute_host_config_applies_total{result="error"} 1
vpcroute_host_config_applies_total{result="ok"} 2
# HELP vpcroute_host_config_changes_total Applies of this host's configuration that had to change something (drift repaired).
# TYPE vpcroute_host_config_changes_total counter
vpcroute_host_config_changes_total 1
# HELP vpcroute_is_leader 1 while this process is the reconciling leader (always in self mode), else 0.
# TYPE vpcroute_is_leader gauge
vpcroute_is_leader 1
# HELP vpcroute_reconcile_duration_seconds Duration of reconcile passes run by this process, by result (ok, degraded, error).
# TYPE vpcroute_reconcile_duration_seconds histogram
vpcroute_reconcile_duration_seconds_bucket{result="degraded",le="0.01"} 0
vpcroute_reconcile_duration_seconds_bucket{result="degraded",le="0.025"} 0
vpcroute_reconcile_duration_seconds_bucket{result="degraded",le="0.05"} 0
vpcroute_reconcile_duration_seconds_bucket{result="degraded",le="0.1"} 1
vpcroute_reconcile_duration_seconds_bucket{result="degraded",le="0.25"} 1
vpcroute_reconcile_duration_seconds_bucket{result="degraded",le="0.5"} 1
vpcroute_reconcile_duration_seconds_bucket{result="degraded",le="1"} 1
vpcroute_reconcile_duration_seconds_bucket{result="degraded",le="2.5"} 1
vpcroute_reconcile_duration_seconds_bucket{result="degraded",le="5"} 1
vpcroute_reconcile_duration_seconds_bucket{result="degraded",le="10"} 1
vpcroute_reconcile_duration_seconds_bucket{result="degraded",le="30"} 1
vpcroute_reconcile_duration_seconds_bucket{result="degraded",le="60"} 1
vpcroute_reconcile_duration_seconds_bucket{result="degraded",le="120"} 1
vpcroute_reconcile_duration_seconds_bucket{result="degraded",le="300"} 1
vpcroute_reconcile_duration_seconds_bucket{result="degraded",le="+Inf"} 1
vpcroute_reconcile_duration_seconds_sum{result="degraded"} 0.0625
vpcroute_reconcile_duration_seconds_count{result="degraded"} 1
vpcroute_reconcile_duration_seconds_bucket{result="error",le="0.01"} 0
vpcroute_reconcile_duration_seconds_bucket{result="error",le="0.025"} 0
vpcroute_reconcile_duration_seconds_bucket{result="error",le="0.05"} 0
vpcroute_reconcile_duration_seconds_bucket{result="error",le="0.1"} 0
vpcroute_reconcile_duration_seconds_bucket{result="error",le="0.25"} 1
vpcroute_reconcile_duration_seconds_bucket{result="error",le="0.5"} 1
vpcroute_reconcile_duration_seconds_bucket{result="error",le="1"} 1
vpcroute_reconcile_duration_seconds_bucket{result="error",le="2.5"} 1
vpcroute_reconcile_duration_seconds_bucket{result="error",le="5"} 1
vpcroute_reconcile_duration_seconds_bucket{result="error",le="10"} 1
vpcroute_reconcile_duration_seconds_bucket{result="error",le="30"} 1
vpcroute_reconcile_duration_seconds_bucket{result="error",le="60"} 1
vpcroute_reconcile_duration_seconds_bucket{result="error",le="120"} 1
vpcroute_reconcile_duration_seconds_bucket{result="error",le="300"} 1
vpcroute_reconcile_duration_seconds_bucket{result="error",le="+Inf"} 1
vpcroute_reconcile_duration_seconds_sum{result="error"} 0.25
vpcroute_reconcile_duration_seconds_count{result="error"} 1
vpcroute_reconcile_duration_seconds_bucket{result="ok",le="0.01"} 0
vpcroute_reconcile_duration_seconds_bucket{result="ok",le="0.025"} 0
vpcroute_reconcile_duration_seconds_bucket{result="ok",le="0.05"} 0
vpcroute_reconcile_duration_seconds_bucket{result="ok",le="0.1"} 0
vpcroute_reconcile_duration_seconds_bucket{result="ok",le="0.25"} 0
vpcroute_reconcile_duration_seconds_bucket{result="ok",le="0.5"} 0
vpcroute_reconcile_duration_seconds_bucket{result="ok",le="1"} 0
vpcroute_reconcile_duration_seconds_bucket{result="ok",le="2.5"} 1
vpcroute_reconcile_duration_seconds_bucket{result="ok",le="5"} 1
vpcroute_reconcile_duration_seconds_bucket{result="ok",le="10"} 1
vpcroute_reconcile_duration_seconds_bucket{result="ok",le="30"} 1
vpcroute_reconcile_duration_seconds_bucket{result="ok",le="60"} 1
vpcroute_reconcile_duration_seconds_bucket{result="ok",le="120"} 1
vpcroute_reconcile_duration_seconds_bucket{result="ok",le="300"} 1
vpcroute_reconcile_duration_seconds_bucket{result="ok",le="+Inf"} 1
vpcroute_reconcile_duration_seconds_sum{result="ok"} 1.5
vpcroute_reconcile_duration_seconds_count{result="ok"} 1
# HELP vpcroute_reconcile_last_success_timestamp_seconds Unix time at which the last completed (ok or degraded) reconcile pass of this process ended; 0 if none.
# TYPE vpcroute_reconcile_last_success_timestamp_seconds gauge
vpcroute_reconcile_last_success_timestamp_seconds 1.7487795000625e+09
# HELP vpcroute_registered_hosts Host records in the registry as this process last read them.
# TYPE vpcroute_registered_hosts gauge
vpcroute_registered_hosts 3
# HELP vpcroute_registry_up 1 when the last registry (etcd) operation of this process succeeded, else 0.
# TYPE vpcroute_registry_up gauge
vpcroute_registry_up 1
# HELP vpcroute_route_changes_total Route entries sent to the cloud by this process, by operation (create, delete).
# TYPE vpcroute_route_changes_total counter
vpcroute_route_changes_total{op="create"} 3
vpcroute_route_changes_total{op="delete"} 1
# HELP vpcroute_routes Routes of this cluster per managed route table in the last pass, by state (desired, actual, pending, conflict).
# TYPE vpcroute_routes gauge
vpcroute_routes{state="actual",table="vtb-a"} 4
vpcroute_routes{state="conflict",table="vtb-a"} 2
vpcroute_routes{state="desired",table="vtb-a"} 4
vpcroute_routes{state="pending",table="vtb-a"} 1
`, vpcrouteMetrics...)
}

// A fresh process exports its fixed series at zero, so rates and absence
// alerts work from the first scrape.
func TestMetricsInitialExposition(t *testing.T) {
	m := NewMetrics("dev")
	compare(t, m, `
# HELP vpcroute_build_info Always 1; the version label is this process's vpcroute version.
# TYPE vpcroute_build_info gauge
vpcroute_build_info{version="dev"} 1
# HELP vpcroute_claim_conflicts Overlapping subnet claims refused in the last pass.
# TYPE vpcroute_claim_conflicts gauge
vpcroute_claim_conflicts 0
# HELP vpcroute_held_deletes Owned routes that looked stale but were not deleted in the last pass, by reason.
# TYPE vpcroute_held_deletes gauge
vpcroute_held_deletes{reason="instance-not-confirmed-gone"} 0
vpcroute_held_deletes{reason="mass-delete-guard"} 0
# HELP vpcroute_host_config_applies_total Applies of this host's ip_forward and iptables configuration, by result (ok, error).
# TYPE vpcroute_host_config_applies_total counter
vpcroute_host_config_applies_total{result="error"} 0
vpcroute_host_config_applies_total{result="ok"} 0
# HELP vpcroute_host_config_changes_total Applies of this host's configuration that had to change something (drift repaired).
# TYPE vpcroute_host_config_changes_total counter
vpcroute_host_config_changes_total 0
# HELP vpcroute_is_leader 1 while this process is the reconciling leader (always in self mode), else 0.
# TYPE vpcroute_is_leader gauge
vpcroute_is_leader 0
# HELP vpcroute_reconcile_last_success_timestamp_seconds Unix time at which the last completed (ok or degraded) reconcile pass of this process ended; 0 if none.
# TYPE vpcroute_reconcile_last_success_timestamp_seconds gauge
vpcroute_reconcile_last_success_timestamp_seconds 0
# HELP vpcroute_registered_hosts Host records in the registry as this process last read them.
# TYPE vpcroute_registered_hosts gauge
vpcroute_registered_hosts 0
# HELP vpcroute_registry_up 1 when the last registry (etcd) operation of this process succeeded, else 0.
# TYPE vpcroute_registry_up gauge
vpcroute_registry_up 0
# HELP vpcroute_route_changes_total Route entries sent to the cloud by this process, by operation (create, delete).
# TYPE vpcroute_route_changes_total counter
vpcroute_route_changes_total{op="create"} 0
vpcroute_route_changes_total{op="delete"} 0
`, vpcrouteMetrics...)
}

func compare(t *testing.T, m *Metrics, expected string, names ...string) {
	t.Helper()
	if err := testutil.GatherAndCompare(m.Gatherer(), strings.NewReader(strings.TrimPrefix(expected, "\n")), names...); err != nil {
		t.Error(err)
	}
}

// The registry is the process's own, with the Go and process collectors,
// and a second Metrics does not collide with the first.
func TestMetricsOwnRegistry(t *testing.T) {
	m1, m2 := NewMetrics("a"), NewMetrics("b")
	for _, m := range []*Metrics{m1, m2} {
		mfs, err := m.Gatherer().Gather()
		if err != nil {
			t.Fatal(err)
		}
		have := map[string]bool{}
		for _, mf := range mfs {
			have[mf.GetName()] = true
		}
		for _, want := range []string{"go_goroutines", "process_cpu_seconds_total", "process_resident_memory_bytes", "vpcroute_build_info"} {
			if !have[want] {
				t.Errorf("metric %s not gathered", want)
			}
		}
	}
}

func TestAPICounts(t *testing.T) {
	m := NewMetrics("dev")
	if got := m.APICounts(); got == nil || len(got) != 0 {
		t.Fatalf("APICounts() before any call = %#v, want empty non-nil", got)
	}
	m.ObserveCall("DescribeVpcs", cloud.OutcomeOK, time.Millisecond)
	m.ObserveCall("CreateRouteEntries", cloud.OutcomeBusy, time.Millisecond)
	m.ObserveCall("CreateRouteEntries", cloud.OutcomeOK, time.Millisecond)
	m.ObserveCall("CreateRouteEntries", cloud.OutcomeBusy, time.Millisecond)
	want := []APICallCount{
		{Action: "CreateRouteEntries", Outcome: "busy", Count: 2},
		{Action: "CreateRouteEntries", Outcome: "ok", Count: 1},
		{Action: "DescribeVpcs", Outcome: "ok", Count: 1},
	}
	if got := m.APICounts(); !reflect.DeepEqual(got, want) {
		t.Errorf("APICounts() = %v, want %v", got, want)
	}
}

func TestMetricsConcurrent(t *testing.T) {
	m := NewMetrics("dev")
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 100 {
				m.ObserveCall("DescribeRouteEntryList", cloud.OutcomeThrottled, time.Millisecond)
				m.ObserveReport(r1)
				m.ObserveReport(r3)
				_ = m.APICounts()
			}
		})
	}
	wg.Wait()
	if got := m.APICounts(); len(got) != 1 || got[0].Count != 400 {
		t.Errorf("APICounts() = %v, want 400 throttled calls", got)
	}
}

// A process that loses leadership stops exporting its last pass's view.
func TestMetricsLeadershipLost(t *testing.T) {
	m := NewMetrics("dev")
	m.SetLeader(true)
	m.ObserveReport(r1)
	m.SetLeader(false)
	compare(t, m, `
# HELP vpcroute_claim_conflicts Overlapping subnet claims refused in the last pass.
# TYPE vpcroute_claim_conflicts gauge
vpcroute_claim_conflicts 0
# HELP vpcroute_held_deletes Owned routes that looked stale but were not deleted in the last pass, by reason.
# TYPE vpcroute_held_deletes gauge
vpcroute_held_deletes{reason="instance-not-confirmed-gone"} 0
vpcroute_held_deletes{reason="mass-delete-guard"} 0
# HELP vpcroute_is_leader 1 while this process is the reconciling leader (always in self mode), else 0.
# TYPE vpcroute_is_leader gauge
vpcroute_is_leader 0
# HELP vpcroute_reconcile_last_success_timestamp_seconds Unix time at which the last completed (ok or degraded) reconcile pass of this process ended; 0 if none.
# TYPE vpcroute_reconcile_last_success_timestamp_seconds gauge
vpcroute_reconcile_last_success_timestamp_seconds 1.7487792015e+09
`, "vpcroute_routes", "vpcroute_claim_conflicts", "vpcroute_held_deletes", "vpcroute_is_leader", "vpcroute_reconcile_last_success_timestamp_seconds")

	// Leading again, the next pass exports afresh.
	m.SetLeader(true)
	m.ObserveReport(r3)
	if n := testutil.CollectAndCount(m.routes); n != 4 {
		t.Errorf("routes series after leading again = %d, want 4 (vtb-a only)", n)
	}
}
