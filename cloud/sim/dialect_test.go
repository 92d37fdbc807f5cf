package sim

import (
	"testing"
)

// TestDialectTable: every dialect's default topology builds a world that
// speaks that dialect, names are unique, "" picks the first, and an unknown
// provider is one line listing the table.
func TestDialectTable(t *testing.T) {
	seen := map[string]bool{}
	for _, d := range dialects {
		if seen[d.name()] {
			t.Errorf("dialect %q listed twice", d.name())
		}
		seen[d.name()] = true
		w, err := compile(d.defaultTopology())
		if err != nil {
			t.Fatalf("%s: default topology: %v", d.name(), err)
		}
		if w.d != d || w.provider != d.name() {
			t.Errorf("%s: default topology compiles to a %q world", d.name(), w.provider)
		}
		topo, err := DefaultTopologyFor(d.name())
		if err != nil || topo.Provider != d.defaultTopology().Provider {
			t.Errorf("DefaultTopologyFor(%q) = provider %q, %v", d.name(), topo.Provider, err)
		}
	}
	if d, ok := dialectFor(""); !ok || d != dialects[0] {
		t.Errorf(`dialectFor("") = %v, %v; want the first dialect`, d, ok)
	}
	_, err := compile(Topology{Provider: "gcp", Region: testRegion})
	if want := `topology: provider="gcp": expected aliyun (default) or aws`; err == nil || err.Error() != want {
		t.Errorf("unknown provider: %v, want %s", err, want)
	}
	if _, err := DefaultTopologyFor("gcp"); err == nil || err.Error() != `provider="gcp": expected aliyun or aws` {
		t.Errorf("DefaultTopologyFor(gcp): %v", err)
	}
}

// TestDialectNames: the list reads as a sentence for any table size.
func TestDialectNames(t *testing.T) {
	saved := dialects
	defer func() { dialects = saved }()
	for _, c := range []struct {
		table       []dialect
		plain, mark string
	}{
		{[]dialect{aliyunDialect{}}, "aliyun", "aliyun (default)"},
		{[]dialect{aliyunDialect{}, ec2Dialect{}}, "aliyun or aws", "aliyun (default) or aws"},
		{[]dialect{ec2Dialect{}, aliyunDialect{}, ec2Dialect{}}, "aws, aliyun or aws", "aws (default), aliyun or aws"},
	} {
		dialects = c.table
		if got := dialectNames(false); got != c.plain {
			t.Errorf("%d dialects: %q, want %q", len(c.table), got, c.plain)
		}
		if got := dialectNames(true); got != c.mark {
			t.Errorf("%d dialects, default marked: %q, want %q", len(c.table), got, c.mark)
		}
	}
}

// TestDialectTransitions: only a dialect with transitions leaves entries
// in flight for Settle to end and makes its VPC busy; the other's routes
// are never busy though none of them is Available.
func TestDialectTransitions(t *testing.T) {
	for _, d := range dialects {
		s, err := New(d.defaultTopology())
		if err != nil {
			t.Fatal(err)
		}
		vpc := s.Routes()[0].VPCID
		busy := s.Busy(vpc)
		s.Settle()
		after := s.Routes()
		s.Close()
		if busy {
			t.Errorf("%s: a fresh world is busy", d.name())
		}
		for _, tb := range after {
			for _, e := range tb.Entries {
				if d.transitions() && e.Status != StatusAvailable {
					t.Errorf("%s: after Settle %s is %s", d.name(), e.Destination, e.Status)
				}
				if !d.transitions() && e.Status == StatusAvailable {
					t.Errorf("%s: Settle made %s %s", d.name(), e.Destination, e.Status)
				}
			}
		}
	}
}
