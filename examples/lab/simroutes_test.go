package lab

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/cloud/sim"
)

const routesSample = `{"region":"cn-zhangjiakou","tables":[{"id":"vtb-lab","vpcId":"vpc-lab","type":"System","vswitches":["vsw-lab"],"entries":[
{"id":"rte-1","tableId":"vtb-lab","destination":"0.0.0.0/0","type":"Custom","status":"Available","nextHopType":"NatGateway","nextHopId":"ngw-lab","name":"internet","description":""},
{"id":"rte-2","tableId":"vtb-lab","destination":"10.0.0.0/24","type":"Custom","status":"Pending","nextHopType":"Instance","nextHopId":"i-aaa","name":"vpcroute-lab","description":"managed by vpcroute; cluster=lab"},
{"id":"rte-3","tableId":"vtb-lab","destination":"192.168.1.0/24","type":"System","status":"Available","nextHopType":"local","nextHopId":"","name":"","description":""}]},
{"id":"vtb-other","vpcId":"vpc-lab","type":"Custom","vswitches":[],"entries":[
{"id":"rte-4","destination":"10.0.0.0/24","type":"Custom","status":"Available","nextHopType":"Instance","nextHopId":"i-bbb","name":"","description":""}]}]}`

func TestParseSimRoutes(t *testing.T) {
	es, err := ParseSimRoutes([]byte(routesSample))
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 4 {
		t.Fatalf("%d entries, want 4: %+v", len(es), es)
	}
	e, ok := FindEntry(es, "vtb-lab", "10.0.0.0/24")
	if !ok || e.NextHopType != "Instance" || e.NextHopID != "i-aaa" || e.Status != "Pending" || e.Name != "vpcroute-lab" || e.Type != "Custom" {
		t.Errorf("10.0.0.0/24 in vtb-lab = %+v, %v", e, ok)
	}
	// An entry without its own tableId belongs to the enclosing table.
	if e, ok := FindEntry(es, "vtb-other", "10.0.0.0/24"); !ok || e.NextHopID != "i-bbb" {
		t.Errorf("10.0.0.0/24 in vtb-other = %+v, %v", e, ok)
	}
	// Raw is the entry byte for byte as served.
	e, _ = FindEntry(es, "vtb-lab", "0.0.0.0/0")
	want := `{"id":"rte-1","tableId":"vtb-lab","destination":"0.0.0.0/0","type":"Custom","status":"Available","nextHopType":"NatGateway","nextHopId":"ngw-lab","name":"internet","description":""}`
	if string(e.Raw) != want {
		t.Errorf("raw = %s\nwant  %s", e.Raw, want)
	}
	if _, err := ParseSimRoutes([]byte(`{"tables":[{`)); err == nil {
		t.Error("truncated JSON parsed without error")
	}
}

// TestParseSimRoutesAgainstSimulator checks the parser against the
// simulator's real admin API, in-process: the lab's entries, an entry put
// through the admin API, and a raw form that changes when the entry does.
func TestParseSimRoutesAgainstSimulator(t *testing.T) {
	var hosts []HostPlan
	for i := 0; i < 2; i++ {
		p, _ := PlanHost(i)
		hosts = append(hosts, p)
	}
	y, err := SimTopology(hosts, 0)
	if err != nil {
		t.Fatal(err)
	}
	topo, err := sim.ParseTopology(y)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sim.New(topo, sim.WithPendingDelay(0))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	get := func() []SimEntry {
		resp, err := http.Get(srv.URL + "/sim/v1/routes")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		es, err := ParseSimRoutes(b)
		if err != nil {
			t.Fatal(err)
		}
		return es
	}
	put := func(r SimRoute) {
		b := []byte(`{"table":"` + RouteTableID + `","destination":"` + r.Destination + `","nextHopType":"` + r.NextHopType + `","nextHopId":"` + r.NextHopID + `","name":"` + r.Name + `","description":"` + r.Description + `"}`)
		resp, err := http.Post(srv.URL+"/sim/v1/routes", "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("put %s: %s", r.Destination, resp.Status)
		}
	}
	es := get()
	inet, ok := FindEntry(es, RouteTableID, "0.0.0.0/0")
	if !ok || inet.NextHopType != "NatGateway" || inet.NextHopID != NATGatewayID {
		t.Fatalf("internet route = %+v, %v; entries %+v", inet, ok, es)
	}
	put(VPNRoute)
	time.Sleep(10 * time.Millisecond)
	vpn, ok := FindEntry(get(), RouteTableID, VPNRoute.Destination)
	if !ok || vpn.Name != VPNRoute.Name || vpn.Description != VPNRoute.Description {
		t.Fatalf("VPN route = %+v, %v", vpn, ok)
	}
	changed := VPNRoute
	changed.Description = "edited"
	put(changed)
	again, _ := FindEntry(get(), RouteTableID, VPNRoute.Destination)
	if bytes.Equal(again.Raw, vpn.Raw) {
		t.Errorf("raw entry did not change when its description did: %s", again.Raw)
	}
}
