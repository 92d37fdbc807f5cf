package cloud

import (
	"fmt"
	"net/netip"
	"testing"
)

func TestDeletableBy(t *testing.T) {
	p := netip.MustParsePrefix
	i := func(id string) Target { return Target{Kind: TargetInstance, ID: id} }
	current := []Route{
		{Destination: p("10.0.0.0/24"), Target: i("i-a"), Cluster: "lab"},
		{Destination: p("10.0.1.0/24"), Target: i("i-b"), Cluster: "other"},
		{Destination: p("10.0.2.0/24"), Target: i("i-c")},
		{Destination: p("10.0.3.0/24"), Target: i("i-d"), Cluster: "lab", System: true},
		{Destination: p("10.0.4.0/24"), Target: i("i-new"), Cluster: "lab"},
	}
	for _, tc := range []struct {
		name                string
		cluster             string
		routes              []Route
		wantOwned, wantRefs string
	}{
		{name: "owned", cluster: "lab", routes: []Route{{Destination: p("10.0.0.0/24"), Target: i("i-a")}},
			wantOwned: "[10.0.0.0/24 -> Instance/i-a in ]", wantRefs: "[]"},
		{name: "another cluster's, a hand-made one, a system one", cluster: "lab", routes: []Route{
			{Destination: p("10.0.1.0/24"), Target: i("i-b")}, {Destination: p("10.0.2.0/24"), Target: i("i-c")},
			{Destination: p("10.0.3.0/24"), Target: i("i-d")}},
			wantOwned: "[]", wantRefs: "[10.0.1.0/24 -> Instance/i-b in  10.0.2.0/24 -> Instance/i-c in  10.0.3.0/24 -> Instance/i-d in ]"},
		{name: "gone or moved: neither", cluster: "lab", routes: []Route{
			{Destination: p("10.9.0.0/24"), Target: i("i-a")}, {Destination: p("10.0.4.0/24"), Target: i("i-old")}},
			wantOwned: "[]", wantRefs: "[]"},
		{name: "no cluster owns nothing", cluster: "", routes: []Route{{Destination: p("10.0.2.0/24"), Target: i("i-c")}},
			wantOwned: "[]", wantRefs: "[10.0.2.0/24 -> Instance/i-c in ]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			owned, refused := DeletableBy(tc.cluster, current, tc.routes)
			if got := fmt.Sprint(owned); got != tc.wantOwned {
				t.Errorf("owned = %s; want %s", got, tc.wantOwned)
			}
			if got := fmt.Sprint(refused); got != tc.wantRefs {
				t.Errorf("refused = %s; want %s", got, tc.wantRefs)
			}
		})
	}
	if e, ok := FindDestination(current, p("10.0.4.0/24")); !ok || e.Target != i("i-new") {
		t.Errorf("FindDestination = %v, %v; want the i-new entry", e, ok)
	}
	if _, ok := FindDestination(current, p("10.0.4.0/25")); ok {
		t.Error("FindDestination matched a longer prefix")
	}
}
