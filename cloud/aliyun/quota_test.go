package aliyun

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/cloud/sim"
)

// A full table is a *cloud.QuotaError naming the table's real quota and
// count, whatever other numbers the message carries.
func TestQuotaExceeded(t *testing.T) {
	for _, tt := range []struct {
		name   string
		quota  int // the simulator's quota
		others int // custom entries put in the table besides 0.0.0.0/0
		fault  string
		create int
		// The default table holds 0.0.0.0/0 besides the others.
		wantQuota, wantUsed int
	}{
		// The message names the count before the quota ("holds 4 custom
		// entries and its quota is 3"): the count is not the quota.
		{name: "quota 3", quota: 3, others: 3, create: 1, wantQuota: 3, wantUsed: 4},
		{name: "quota 12", quota: 12, others: 12, create: 1, wantQuota: 12, wantUsed: 13},
		// A batch fills the table up to its quota, then fails.
		{name: "batch", quota: 12, others: 9, create: 4, wantQuota: 12, wantUsed: 12},
		// Without a quota in the message the count is the quota: the table
		// just refused one more.
		{name: "no quota in the message", quota: 200, others: 2, create: 1,
			fault: "The route entry quota of this route table is exceeded.", wantQuota: 3, wantUsed: 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(topo *sim.Topology) {
				topo.Behaviour.Quota = tt.quota
				for i := range tt.others {
					topo.RouteTables[0].Routes = append(topo.RouteTables[0].Routes,
						sim.RouteSpec{Destination: fmt.Sprintf("172.16.%d.0/24", i), NextHopType: "Instance", NextHopID: "i-bbb"})
				}
			})
			if tt.fault != "" {
				if err := f.sim.AddFault(sim.FaultRule{Action: "CreateRouteEntry", Code: "QuotaExceeded", Message: tt.fault}); err != nil {
					t.Fatal(err)
				}
			}
			p := f.provider(t, "i-aaa")
			var rs []cloud.Route
			for i := range tt.create {
				rs = append(rs, route(fmt.Sprintf("10.0.%d.0/24", i), "i-aaa"))
			}
			err := p.CreateRoutes(context.Background(), "vtb-lab", rs)
			var qe *cloud.QuotaError
			if !errors.As(err, &qe) || !errors.Is(err, cloud.ErrQuotaExceeded) {
				t.Fatalf("err = %v, want a QuotaError", err)
			}
			if qe.TableID != "vtb-lab" || qe.Quota != tt.wantQuota || qe.Used != tt.wantUsed || qe.Code != "QuotaExceeded" {
				t.Errorf("QuotaError = %+v, want quota %d and %d used", qe, tt.wantQuota, tt.wantUsed)
			}
			want := fmt.Sprintf("route table vtb-lab is full: it holds %d entries and its quota is %d", tt.wantUsed, tt.wantQuota)
			if !strings.Contains(err.Error(), want) {
				t.Errorf("err = %v\nwant it to contain %q", err, want)
			}
			st := f.sim.Stats()
			if n := st.Calls("CreateRouteEntry") + st.Calls("CreateRouteEntries"); n != 1 {
				t.Errorf("create calls = %d, want 1: quota errors are not retried", n)
			}
		})
	}
}

func TestQuotaPattern(t *testing.T) {
	for msg, want := range map[string]string{
		"The quota of route entries in the route table is exceeded: route table vtb-lab holds 13 custom entries and its quota is 12.": "12",
		"Quota: 500":                    "500",
		"route table vtb-2ze3 quota=48": "48",
		"The route entry quota of this route table is exceeded.": "",
		"Route table vtb-12345 holds 200 entries.":               "",
	} {
		got := ""
		if m := quotaPattern.FindStringSubmatch(msg); m != nil {
			got = m[1]
		}
		if got != want {
			t.Errorf("%q: quota %q, want %q", msg, got, want)
		}
	}
}
