package status

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/vpcroute/vpcroute/cloud"
)

// dashboardPath is the Grafana dashboard shipped in deploy/.
var dashboardPath = filepath.Join("..", "..", "deploy", "grafana-dashboard.json")

// targetLabels are added by Prometheus (instance, job) or by the scrape
// config (cluster), not by vpcroute.
var targetLabels = []string{"instance", "job", "cluster"}

// The panels the dashboard must have, by the metric they read.
var dashboardMustShow = []string{
	"vpcroute_is_leader",
	"vpcroute_reconcile_duration_seconds",
	"vpcroute_reconcile_last_success_timestamp_seconds",
	"vpcroute_routes",
	"vpcroute_route_changes_total",
	"vpcroute_cloud_api_calls_total",
	"vpcroute_cloud_api_throttles_total",
	"vpcroute_claim_conflicts",
	"vpcroute_held_deletes",
	"vpcroute_host_config_applies_total",
	"vpcroute_registered_hosts",
}

type dashboard struct {
	SchemaVersion int `json:"schemaVersion"`
	Inputs        []struct {
		Name     string `json:"name"`
		Type     string `json:"type"`
		PluginID string `json:"pluginId"`
	} `json:"__inputs"`
	Panels     []dashPanel `json:"panels"`
	Templating struct {
		List []struct {
			Name       string     `json:"name"`
			Datasource datasource `json:"datasource"`
			Definition string     `json:"definition"`
		} `json:"list"`
	} `json:"templating"`
}

type dashPanel struct {
	ID         int                      `json:"id"`
	Title      string                   `json:"title"`
	Type       string                   `json:"type"`
	Datasource *datasource              `json:"datasource"`
	GridPos    struct{ H, W, X, Y int } `json:"gridPos"`
	Targets    []struct {
		Datasource   *datasource `json:"datasource"`
		Expr         string      `json:"expr"`
		LegendFormat string      `json:"legendFormat"`
		RefID        string      `json:"refId"`
	} `json:"targets"`
	Panels []dashPanel `json:"panels"` // a collapsed row's panels
}

type datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// family is what the test knows of one metric Metrics exports.
type family struct {
	typ    dto.MetricType
	labels []string
}

// exportedFamilies exercises every method of Metrics so that every vector
// has a child, and returns the vpcroute_ families gathered.
func exportedFamilies(t *testing.T) map[string]family {
	t.Helper()
	m := NewMetrics("test")
	m.SetLeader(true)
	m.SetRegisteredHosts(2)
	m.SetRegistryUp(true)
	m.ObserveHostConfigApply(true, errors.New("x"))
	m.ObserveCall("DescribeRouteEntryList", cloud.OutcomeThrottled, time.Millisecond)
	m.ObserveReport(r1)
	mfs, err := m.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]family{}
	for _, mf := range mfs {
		if !strings.HasPrefix(mf.GetName(), "vpcroute_") {
			continue
		}
		f := family{typ: mf.GetType()}
		for _, metric := range mf.GetMetric() {
			for _, l := range metric.GetLabel() {
				if !slices.Contains(f.labels, l.GetName()) {
					f.labels = append(f.labels, l.GetName())
				}
			}
		}
		out[mf.GetName()] = f
	}
	return out
}

var (
	metricRef = regexp.MustCompile(`\b(vpcroute_[a-z0-9_]+)\s*(\{([^}]*)\})?`)
	matcher   = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"`)
	grouping  = regexp.MustCompile(`\b(?:by|without)\s*\(([^)]*)\)`)
	legendVar = regexp.MustCompile(`\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}`)
)

// resolve maps a series name used in PromQL to its family and the extra
// labels the series form adds (le for a histogram's buckets).
func resolve(fams map[string]family, name string) (string, []string, bool) {
	if _, ok := fams[name]; ok {
		return name, nil, true
	}
	for suffix, extra := range map[string][]string{"_bucket": {"le"}, "_sum": nil, "_count": nil} {
		base, ok := strings.CutSuffix(name, suffix)
		if f, found := fams[base]; ok && found && f.typ == dto.MetricType_HISTOGRAM {
			return base, extra, true
		}
	}
	return "", nil, false
}

// checkExpr checks every metric, matcher label and grouping label of a
// PromQL expression against what Metrics exports; it returns the families
// the expression reads.
func checkExpr(t *testing.T, where, expr string, fams map[string]family, wantFilters bool) []string {
	t.Helper()
	var used []string
	var allowed []string // labels of every metric in expr, for by()
	refs := metricRef.FindAllStringSubmatch(expr, -1)
	if len(refs) == 0 {
		t.Errorf("%s: expression reads no vpcroute metric: %s", where, expr)
	}
	for _, ref := range refs {
		base, extra, ok := resolve(fams, ref[1])
		if !ok {
			t.Errorf("%s: %s is not a metric that Metrics exports (expr %s)", where, ref[1], expr)
			continue
		}
		used = append(used, base)
		labels := slices.Concat(fams[base].labels, extra, targetLabels)
		allowed = append(allowed, labels...)
		for _, mm := range matcher.FindAllStringSubmatch(ref[3], -1) {
			if !slices.Contains(labels, mm[1]) {
				t.Errorf("%s: %s has no label %q (has %v)", where, ref[1], mm[1], labels)
			}
		}
		if wantFilters && (!strings.Contains(ref[3], `cluster=~"$cluster"`) || !strings.Contains(ref[3], `instance=~"$instance"`)) {
			t.Errorf("%s: %s is not filtered by the $cluster and $instance variables", where, ref[1])
		}
	}
	for _, g := range grouping.FindAllStringSubmatch(expr, -1) {
		for l := range strings.SplitSeq(g[1], ",") {
			if l = strings.TrimSpace(l); l != "" && !slices.Contains(allowed, l) {
				t.Errorf("%s: grouping label %q is on none of the metrics read (expr %s)", where, l, expr)
			}
		}
	}
	return used
}

// The dashboard reads only metrics and labels that Metrics exports, every
// query honours the template variables, and every required panel is there:
// renaming a metric without the dashboard fails here.
func TestGrafanaDashboard(t *testing.T) {
	raw, err := os.ReadFile(dashboardPath)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("%s is not valid JSON: %v", dashboardPath, err)
	}
	if d.SchemaVersion < 36 {
		t.Errorf("schemaVersion %d, want a current Grafana schema (39)", d.SchemaVersion)
	}
	if len(d.Inputs) != 1 || d.Inputs[0].Name != "DS_PROMETHEUS" || d.Inputs[0].PluginID != "prometheus" {
		t.Errorf("__inputs = %+v, want the one Prometheus input DS_PROMETHEUS", d.Inputs)
	}
	fams := exportedFamilies(t)
	wantDS := datasource{Type: "prometheus", UID: "${DS_PROMETHEUS}"}

	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
		if v.Datasource != wantDS {
			t.Errorf("variable %s: datasource %+v, want %+v", v.Name, v.Datasource, wantDS)
		}
		checkExpr(t, "variable "+v.Name, v.Definition, fams, false)
		if !strings.Contains(v.Definition, "vpcroute_build_info") {
			t.Errorf("variable %s does not read vpcroute_build_info: %s", v.Name, v.Definition)
		}
	}
	for _, name := range []string{"cluster", "instance"} {
		if !vars[name] {
			t.Errorf("template variable %q missing", name)
		}
	}

	ids := map[int]string{}
	used := map[string]bool{}
	var all []dashPanel
	for _, p := range d.Panels {
		all = append(all, p)
		all = append(all, p.Panels...)
	}
	for _, p := range all {
		where := "panel " + p.Title
		if other, dup := ids[p.ID]; dup {
			t.Errorf("%s: id %d also used by %s", where, p.ID, other)
		}
		ids[p.ID] = p.Title
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || *p.Datasource != wantDS {
			t.Errorf("%s: datasource %+v, want %+v", where, p.Datasource, wantDS)
		}
		if len(p.Targets) == 0 {
			t.Errorf("%s: no query", where)
		}
		for _, q := range p.Targets {
			if q.Datasource == nil || *q.Datasource != wantDS {
				t.Errorf("%s %s: datasource %+v, want %+v", where, q.RefID, q.Datasource, wantDS)
			}
			for _, f := range checkExpr(t, where, q.Expr, fams, true) {
				used[f] = true
			}
			groups := strings.Join(grouping.FindAllString(q.Expr, -1), " ")
			for _, lv := range legendVar.FindAllStringSubmatch(q.LegendFormat, -1) {
				if !regexp.MustCompile(`\b` + lv[1] + `\b`).MatchString(groups) {
					t.Errorf("%s: legend {{%s}} is not a label the query keeps (%s)", where, lv[1], q.Expr)
				}
			}
		}
	}
	for _, name := range dashboardMustShow {
		if !used[name] {
			t.Errorf("no panel reads %s", name)
		}
	}
	checkLayout(t, all)
}

// checkLayout fails on panels that overlap or leave Grafana's 24 columns.
func checkLayout(t *testing.T, panels []dashPanel) {
	t.Helper()
	for i, a := range panels {
		g := a.GridPos
		if g.W <= 0 || g.H <= 0 || g.X < 0 || g.X+g.W > 24 {
			t.Errorf("panel %s: gridPos %+v outside the 24 columns", a.Title, g)
		}
		for _, b := range panels[i+1:] {
			h := b.GridPos
			if g.X < h.X+h.W && h.X < g.X+g.W && g.Y < h.Y+h.H && h.Y < g.Y+g.H {
				t.Errorf("panels %s %+v and %s %+v overlap", a.Title, g, b.Title, h)
			}
		}
	}
}
