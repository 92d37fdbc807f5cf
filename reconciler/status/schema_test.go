package status

import (
	"encoding/json"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// SCHEMA.md stays true: its example is exactly what /status serves for the
// cluster fixture, and every field name a served document can carry is
// described in it.
func TestSchemaDoc(t *testing.T) {
	raw, err := os.ReadFile("SCHEMA.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	m := regexp.MustCompile("(?s)## Example.*?```json\n(.*?)\n```").FindStringSubmatch(doc)
	if m == nil {
		t.Fatal("SCHEMA.md has no ```json example under ## Example")
	}
	example, err := Decode([]byte(m[1]), "SCHEMA.md")
	if err != nil {
		t.Fatal(err)
	}
	if want := clusterDocument().normalized(); !reflect.DeepEqual(example, want) {
		t.Errorf("SCHEMA.md example is not the cluster fixture:\n got %+v\nwant %+v", example, want)
	}
	served, err := json.MarshalIndent(example.normalized(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if string(served) != m[1] {
		t.Errorf("SCHEMA.md example differs from what /status serves for it:\n%s", served)
	}

	keys := map[string]bool{}
	for _, d := range []Document{clusterDocument(), failingDocument(), selfDocument()} {
		b, err := json.Marshal(d.normalized())
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		collectKeys(v, keys)
	}
	if !strings.Contains(doc, "`"+SchemaVersion+"`") {
		t.Errorf("SCHEMA.md does not name %s", SchemaVersion)
	}
	for k := range keys {
		if !strings.Contains(doc, "`"+k+"`") {
			t.Errorf("SCHEMA.md does not describe the field %q", k)
		}
	}
}

func collectKeys(v any, into map[string]bool) {
	switch v := v.(type) {
	case map[string]any:
		for k, c := range v {
			into[k] = true
			collectKeys(c, into)
		}
	case []any:
		for _, c := range v {
			collectKeys(c, into)
		}
	}
}
