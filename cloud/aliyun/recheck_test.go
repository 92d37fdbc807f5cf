package aliyun

import (
	"context"
	"strings"
	"testing"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/cloud/sim"
)

// A caller's copy of an entry, owned when it was listed, decides nothing:
// DeleteRoutes goes by the table as it is when the delete is sent. Each
// case changes the entry behind the API's back after the caller's listing.
func TestDeleteRechecksOwnershipOfAStaleCopy(t *testing.T) {
	for _, tt := range []struct {
		name string
		now  sim.PutRouteRequest // the entry for 10.0.0.0/24 after the change
		// refused: the delete is an error naming the entry; otherwise it
		// is success (the entry the caller meant is gone), without a write.
		refused bool
	}{
		{"now another cluster's", sim.PutRouteRequest{NextHopID: "i-aaa",
			Name: "vpcroute-prod", Description: "managed by vpcroute; cluster=prod; instance=i-aaa"}, true},
		{"renamed by an operator", sim.PutRouteRequest{NextHopID: "i-aaa",
			Name: "by-hand", Description: "managed by vpcroute; cluster=lab; instance=i-aaa"}, true},
		{"re-described by an operator", sim.PutRouteRequest{NextHopID: "i-aaa",
			Name: "vpcroute-lab", Description: "keep: database failover"}, true},
		{"moved to another host of the cluster", sim.PutRouteRequest{NextHopID: "i-bbb",
			Name: "vpcroute-lab", Description: "managed by vpcroute; cluster=lab; instance=i-bbb"}, false},
		{"moved to another cluster's host", sim.PutRouteRequest{NextHopID: "i-bbb",
			Name: "vpcroute-prod", Description: "managed by vpcroute; cluster=prod; instance=i-bbb"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			p := f.provider(t, "i-aaa")
			ctx := context.Background()
			if err := p.CreateRoutes(ctx, "vtb-lab", []cloud.Route{route("10.0.0.0/24", "i-aaa")}); err != nil {
				t.Fatal(err)
			}
			stale, ok := ownedRoutes(t, p, "vtb-lab")["10.0.0.0/24"]
			if !ok {
				t.Fatal("the created entry is not listed as owned")
			}
			now := tt.now
			now.Table, now.Destination, now.NextHopType = "vtb-lab", "10.0.0.0/24", "Instance"
			if _, err := f.sim.PutRoute(now); err != nil {
				t.Fatal(err)
			}
			f.sim.ResetStats()
			err := p.DeleteRoutes(ctx, "vtb-lab", []cloud.Route{stale})
			switch {
			case tt.refused && (err == nil || !strings.Contains(err.Error(), "refusing to delete 10.0.0.0/24 -> Instance/i-aaa")):
				t.Errorf("err = %v, want a refusal", err)
			case !tt.refused && err != nil:
				t.Errorf("err = %v", err)
			}
			if st := f.sim.Stats(); st.Writes != 0 {
				t.Errorf("%d writes: %v", st.Writes, st.Actions)
			}
			if got := entryOf(t, f, "10.0.0.0/24"); got != now.NextHopID+" "+now.Name+" "+now.Description {
				t.Errorf("entry afterwards: %q", got)
			}
		})
	}
}

// entryOf renders the default table's entry for dst as "hop name description".
func entryOf(t *testing.T, f *fixture, dst string) string {
	t.Helper()
	for _, tb := range f.sim.Routes() {
		for _, e := range tb.Entries {
			if tb.ID == "vtb-lab" && e.Destination == dst {
				return e.NextHopID + " " + e.Name + " " + e.Description
			}
		}
	}
	return ""
}
