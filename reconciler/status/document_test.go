package status

import (
	"encoding/json"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/vpcroute/vpcroute/reconciler"
)

func TestDocumentJSONRoundTrip(t *testing.T) {
	for name, d := range map[string]Document{
		"cluster": clusterDocument(),
		"self":    selfDocument(),
		"failing": failingDocument(),
	} {
		t.Run(name, func(t *testing.T) {
			want := d.normalized()
			raw, err := json.Marshal(want)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Decode(raw, "test")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("round trip changed the document\n got: %+v\nwant: %+v", got, want)
			}
		})
	}
}

// The JSON field names are the schema; a rename must be a conscious v2.
func TestDocumentFieldNames(t *testing.T) {
	m := servedJSON(t, clusterDocument())
	assertKeys(t, "document", m, "schemaVersion", "generated", "version", "cluster", "mode", "host", "leader",
		"hosts", "reconcile", "lastSuccess", "api", "errors", "loops", "dependencies")
	assertKeys(t, "host", m["host"].(map[string]any), "instance", "target", "privateIp", "subnets", "hostConfig",
		"registered", "claimConflicts")
	assertKeys(t, "hostConfig", m["host"].(map[string]any)["hostConfig"].(map[string]any), "state", "lastApplied",
		"lastChange", "drift")
	assertKeys(t, "leader", m["leader"].(map[string]any), "instance", "statusAddr", "isSelf", "known")
	assertKeys(t, "api[0]", m["api"].([]any)[0].(map[string]any), "action", "outcome", "count")
	assertKeys(t, "errors[0]", m["errors"].([]any)[0].(map[string]any), "time", "component", "message", "count")
	assertKeys(t, "loops[0]", m["loops"].([]any)[0].(map[string]any), "name", "lastBeat", "allowanceNs", "stuck")
}

// loops was added to v1: a document of an older daemon, without it, still
// reads, and says the loops are unknown rather than none.
func TestDocumentWithoutLoopsStillReads(t *testing.T) {
	d := clusterDocument()
	m := servedJSON(t, d)
	delete(m, "loops")
	old, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(old, "older daemon")
	if err != nil {
		t.Fatal(err)
	}
	if got.Loops != nil || got.Host.Instance != d.Host.Instance {
		t.Fatalf("decoded %+v", got)
	}
	var b strings.Builder
	if err := Render(&b, got); err != nil || !strings.Contains(b.String(), "Loops: not reported") {
		t.Fatalf("render of a document without loops: %v\n%s", err, b.String())
	}
}

// servedJSON is d as /status serves it, decoded into plain JSON values.
func servedJSON(t *testing.T, d Document) map[string]any {
	t.Helper()
	raw, err := json.Marshal(d.normalized())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func assertKeys(t *testing.T, what string, m map[string]any, keys ...string) {
	t.Helper()
	var got []string
	for k := range m {
		got = append(got, k)
	}
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("%s: key %q missing (have %v)", what, k, got)
		}
	}
	if len(m) != len(keys) {
		t.Errorf("%s: keys %v, want exactly %v", what, got, keys)
	}
}

// A served document never has null where a list belongs, and optional
// fields are absent rather than zero.
func TestNormalizedListsAndOptionalFields(t *testing.T) {
	d := Document{Reconcile: &reconciler.Report{Result: reconciler.ResultOK}, Hosts: []reconciler.Host{{Instance: "i-a"}}}
	raw, err := json.Marshal(d.normalized())
	if err != nil {
		t.Fatal(err)
	}
	s := string(raw)
	if strings.Contains(s, "null") {
		t.Errorf("normalized document contains null: %s", s)
	}
	for _, absent := range []string{`"lastSuccess"`, `"lastApplied"`, `"lastChange"`, `"statusAddr"`, `"error"`} {
		if strings.Contains(s, absent) {
			t.Errorf("unset optional field %s present: %s", absent, s)
		}
	}
	if !strings.Contains(s, `"schemaVersion":"vpcroute.status/v1"`) {
		t.Errorf("schemaVersion not set: %s", s)
	}
	if d.Reconcile.Tables != nil || d.Hosts[0].Subnets != nil {
		t.Error("normalized modified the caller's report or hosts")
	}
	if raw, _ := json.Marshal(Document{}.normalized()); strings.Contains(string(raw), `"reconcile"`) {
		t.Errorf("reconcile present without a pass: %s", raw)
	}
}

func TestSucceeded(t *testing.T) {
	for result, want := range map[string]bool{
		reconciler.ResultOK: true, reconciler.ResultDegraded: true, reconciler.ResultError: false, "": false,
	} {
		if got := Succeeded(reconciler.Report{Result: result}); got != want {
			t.Errorf("Succeeded(%q) = %v, want %v", result, got, want)
		}
	}
}

func TestClaimConflictsOf(t *testing.T) {
	ref := func(i, p string) reconciler.ClaimRef {
		return reconciler.ClaimRef{Instance: i, Subnet: netip.MustParsePrefix(p)}
	}
	ab := reconciler.ClaimConflict{Refused: ref("i-b", "10.0.0.0/25"), Holder: ref("i-a", "10.0.0.0/24")}
	cb := reconciler.ClaimConflict{Refused: ref("i-c", "10.1.0.0/24"), Holder: ref("i-b", "10.1.0.0/16")}
	all := []reconciler.ClaimConflict{ab, cb}
	for _, tc := range []struct {
		instance string
		want     []reconciler.ClaimConflict
	}{
		{"i-a", []reconciler.ClaimConflict{ab}},
		{"i-b", []reconciler.ClaimConflict{ab, cb}},
		{"i-c", []reconciler.ClaimConflict{cb}},
		{"i-d", []reconciler.ClaimConflict{}},
	} {
		if got := ClaimConflictsOf(tc.instance, all); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ClaimConflictsOf(%s) = %v, want %v", tc.instance, got, tc.want)
		}
	}
}
