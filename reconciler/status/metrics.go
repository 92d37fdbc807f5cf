package status

import (
	"cmp"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/reconciler"
)

// Route states of the vpcroute_routes gauge.
const (
	RouteStateDesired  = "desired"
	RouteStateActual   = "actual"
	RouteStatePending  = "pending"
	RouteStateConflict = "conflict"
)

var routeStates = []string{RouteStateDesired, RouteStateActual, RouteStatePending, RouteStateConflict}

// heldReasons are always exported, at 0 when nothing is held, so that a
// dashboard or alert sees the series before the first held delete.
var heldReasons = []string{reconciler.HeldNotGone, reconciler.HeldMassDelete}

// Buckets of the reconcile duration: a pass with nothing to do takes tens
// of milliseconds (one list per table); a cold start of 200 hosts on
// Alibaba (serialized writes, ~2 s Pending per batch) takes minutes.
var reconcileBuckets = []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300}

// Buckets of one cloud API call, retries being separate calls.
var apiBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// Metrics holds the daemon's Prometheus metrics in a registry of its own
// (with the Go and process collectors), never the global default one.
// It is a cloud.CallObserver. Every method is safe for concurrent use.
type Metrics struct {
	reg *prometheus.Registry

	reconcileDuration *prometheus.HistogramVec
	lastSuccess       prometheus.Gauge
	routes            *prometheus.GaugeVec
	routeChanges      *prometheus.CounterVec
	claimConflicts    prometheus.Gauge
	heldDeletes       *prometheus.GaugeVec

	apiCalls     *prometheus.CounterVec
	apiThrottles *prometheus.CounterVec
	apiDuration  *prometheus.HistogramVec

	isLeader          prometheus.Gauge
	registeredHosts   prometheus.Gauge
	hostConfigApplies *prometheus.CounterVec
	hostConfigChanges prometheus.Counter
	registryUp        prometheus.Gauge
	buildInfo         *prometheus.GaugeVec

	// mu serializes ObserveReport so that its removal of stale label sets
	// sees the previous report's sets.
	mu     sync.Mutex
	tables map[string]bool
	held   map[string]bool
}

var _ cloud.CallObserver = (*Metrics)(nil)

// NewMetrics creates the metrics and their registry; version is exported
// as vpcroute_build_info{version}.
func NewMetrics(version string) *Metrics {
	m := &Metrics{
		reg:    prometheus.NewRegistry(),
		tables: map[string]bool{},
		held:   map[string]bool{},
		reconcileDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "vpcroute_reconcile_duration_seconds",
			Help:    "Duration of reconcile passes run by this process, by result (ok, degraded, error).",
			Buckets: reconcileBuckets,
		}, []string{"result"}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vpcroute_reconcile_last_success_timestamp_seconds",
			Help: "Unix time at which the last completed (ok or degraded) reconcile pass of this process ended; 0 if none.",
		}),
		routes: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "vpcroute_routes",
			Help: "Routes of this cluster per managed route table in the last pass, by state (desired, actual, pending, conflict).",
		}, []string{"table", "state"}),
		routeChanges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vpcroute_route_changes_total",
			Help: "Route entries sent to the cloud by this process, by operation (create, delete).",
		}, []string{"op"}),
		claimConflicts: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vpcroute_claim_conflicts",
			Help: "Overlapping subnet claims refused in the last pass.",
		}),
		heldDeletes: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "vpcroute_held_deletes",
			Help: "Owned routes that looked stale but were not deleted in the last pass, by reason.",
		}, []string{"reason"}),
		apiCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vpcroute_cloud_api_calls_total",
			Help: "Cloud API calls sent by this process, retries included, by action and outcome (ok, throttled, busy, error).",
		}, []string{"action", "outcome"}),
		apiThrottles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vpcroute_cloud_api_throttles_total",
			Help: "Cloud API calls refused for the cloud's rate limit, by action.",
		}, []string{"action"}),
		apiDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "vpcroute_cloud_api_call_duration_seconds",
			Help:    "Duration of one cloud API call, by action.",
			Buckets: apiBuckets,
		}, []string{"action"}),
		isLeader: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vpcroute_is_leader",
			Help: "1 while this process is the reconciling leader (always in self mode), else 0.",
		}),
		registeredHosts: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vpcroute_registered_hosts",
			Help: "Host records in the registry as this process last read them.",
		}),
		hostConfigApplies: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vpcroute_host_config_applies_total",
			Help: "Applies of this host's ip_forward and iptables configuration, by result (ok, error).",
		}, []string{"result"}),
		hostConfigChanges: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vpcroute_host_config_changes_total",
			Help: "Applies of this host's configuration that had to change something (drift repaired).",
		}),
		registryUp: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vpcroute_registry_up",
			Help: "1 when the last registry (etcd) operation of this process succeeded, else 0.",
		}),
		buildInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "vpcroute_build_info",
			Help: "Always 1; the version label is this process's vpcroute version.",
		}, []string{"version"}),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.reconcileDuration, m.lastSuccess, m.routes, m.routeChanges, m.claimConflicts, m.heldDeletes,
		m.apiCalls, m.apiThrottles, m.apiDuration,
		m.isLeader, m.registeredHosts, m.hostConfigApplies, m.hostConfigChanges, m.registryUp, m.buildInfo,
	)
	m.buildInfo.WithLabelValues(version).Set(1)
	// Series that have a fixed label set exist from the start at 0, so
	// rate() and absence alerts work before the first event.
	for _, op := range []string{"create", "delete"} {
		m.routeChanges.WithLabelValues(op)
	}
	for _, r := range []string{"ok", "error"} {
		m.hostConfigApplies.WithLabelValues(r)
	}
	for _, reason := range heldReasons {
		m.heldDeletes.WithLabelValues(reason)
		m.held[reason] = true
	}
	return m
}

// Gatherer returns the metrics' registry, for tests and for serving
// /metrics elsewhere.
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.reg }

// Handler serves the registry in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// ObserveCall counts one cloud API call (cloud.CallObserver). A throttled
// call also counts in vpcroute_cloud_api_throttles_total.
func (m *Metrics) ObserveCall(action, outcome string, took time.Duration) {
	m.apiCalls.WithLabelValues(action, outcome).Inc()
	if outcome == cloud.OutcomeThrottled {
		m.apiThrottles.WithLabelValues(action).Inc()
	}
	m.apiDuration.WithLabelValues(action).Observe(took.Seconds())
}

// ObserveReport records a reconcile pass this process ran. Call it only for
// the process's own passes (a follower showing the leader's report must
// not), so that sums over all instances count each change once.
//
// The duration histogram and the change counters always count the pass.
// A completed pass (see Succeeded) also sets the last-success time and
// replaces the routes, claim-conflict and held-delete gauges, removing the
// series of tables it no longer lists. A failed pass updates the routes
// gauges of the tables it lists and leaves everything else as the last
// completed pass left it: a failed list is no reason to report zero routes.
func (m *Metrics) ObserveReport(r reconciler.Report) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reconcileDuration.WithLabelValues(r.Result).Observe(r.Duration.Seconds())
	m.routeChanges.WithLabelValues("create").Add(float64(r.Created))
	m.routeChanges.WithLabelValues("delete").Add(float64(r.Deleted))

	seen := map[string]bool{}
	for _, t := range r.Tables {
		seen[t.ID] = true
		m.tables[t.ID] = true
		m.routes.WithLabelValues(t.ID, RouteStateDesired).Set(float64(t.Desired))
		m.routes.WithLabelValues(t.ID, RouteStateActual).Set(float64(t.Actual))
		m.routes.WithLabelValues(t.ID, RouteStatePending).Set(float64(t.Pending))
		m.routes.WithLabelValues(t.ID, RouteStateConflict).Set(float64(t.Conflicts))
	}
	if !Succeeded(r) {
		return
	}
	end := r.Started.Add(r.Duration)
	// Seconds and fraction apart: UnixNano as a float64 loses the last digits.
	m.lastSuccess.Set(float64(end.Unix()) + float64(end.Nanosecond())/1e9)
	for table := range m.tables {
		if !seen[table] {
			m.dropTable(table)
		}
	}
	m.claimConflicts.Set(float64(len(r.ClaimConflicts)))

	held := map[string]int{}
	for _, reason := range heldReasons {
		held[reason] = 0
	}
	for _, h := range r.Held {
		held[h.Reason]++
	}
	for reason, n := range held {
		m.heldDeletes.WithLabelValues(reason).Set(float64(n))
	}
	for reason := range m.held {
		if _, ok := held[reason]; !ok {
			m.heldDeletes.DeleteLabelValues(reason)
			delete(m.held, reason)
		}
	}
	for reason := range held {
		m.held[reason] = true
	}
}

// SetLeader sets vpcroute_is_leader. Losing leadership also clears what
// this process's last pass exported (the routes series, claim conflicts and
// held deletes go to none or 0): the new leader exports them now, and a
// former leader's stale numbers would double them on a dashboard.
func (m *Metrics) SetLeader(leader bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.isLeader.Set(boolFloat(leader))
	if leader {
		return
	}
	for table := range m.tables {
		m.dropTable(table)
	}
	m.claimConflicts.Set(0)
	for reason := range m.held {
		if slices.Contains(heldReasons, reason) {
			m.heldDeletes.WithLabelValues(reason).Set(0)
		} else {
			m.heldDeletes.DeleteLabelValues(reason)
			delete(m.held, reason)
		}
	}
}

// SetRegisteredHosts sets vpcroute_registered_hosts.
func (m *Metrics) SetRegisteredHosts(n int) { m.registeredHosts.Set(float64(n)) }

// SetRegistryUp sets vpcroute_registry_up.
func (m *Metrics) SetRegistryUp(up bool) { m.registryUp.Set(boolFloat(up)) }

// ObserveHostConfigApply counts one apply of the host configuration: by
// result (error when err is not nil), and as a change when it changed
// something.
func (m *Metrics) ObserveHostConfigApply(changed bool, err error) {
	if err != nil {
		m.hostConfigApplies.WithLabelValues("error").Inc()
	} else {
		m.hostConfigApplies.WithLabelValues("ok").Inc()
	}
	if changed {
		m.hostConfigChanges.Inc()
	}
}

// APICounts returns this process's cloud API call counts, read from
// vpcroute_cloud_api_calls_total, sorted by action then outcome.
func (m *Metrics) APICounts() []APICallCount {
	ch := make(chan prometheus.Metric)
	go func() {
		m.apiCalls.Collect(ch)
		close(ch)
	}()
	out := []APICallCount{}
	for metric := range ch {
		var pb dto.Metric
		// Write only fails for a metric with invalid labels, which
		// WithLabelValues never creates; such a metric is skipped.
		if metric.Write(&pb) != nil || pb.GetCounter() == nil {
			continue
		}
		c := APICallCount{Count: int64(pb.GetCounter().GetValue())}
		for _, l := range pb.GetLabel() {
			switch l.GetName() {
			case "action":
				c.Action = l.GetValue()
			case "outcome":
				c.Outcome = l.GetValue()
			}
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b APICallCount) int {
		return cmp.Or(cmp.Compare(a.Action, b.Action), cmp.Compare(a.Outcome, b.Outcome))
	})
	return out
}

// dropTable removes a table's routes series; m.mu must be held.
func (m *Metrics) dropTable(table string) {
	for _, s := range routeStates {
		m.routes.DeleteLabelValues(table, s)
	}
	delete(m.tables, table)
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
