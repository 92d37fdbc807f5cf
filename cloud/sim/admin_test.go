package sim

import (
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/vpc"
)

func TestAdminStats(t *testing.T) {
	ts := start(t)
	listEntries(t, ts, nil)
	listEntries(t, ts, nil)
	createEntry(t, ts, "10.0.0.0/24", "i-aaa")
	req := at(ts, vpc.CreateCreateRouteEntryRequest())
	req.RouteTableId, req.DestinationCidrBlock, req.NextHopType, req.NextHopId = testTable, "10.0.0.0/24", "Instance", "i-bbb"
	_, err := vpcClient(t).CreateRouteEntry(req)
	wantServerError(t, err, 400, CodeDuplicate)
	if _, err := ecsClient(t).DescribeInstances(at(ts, ecs.CreateDescribeInstancesRequest())); err != nil {
		t.Fatal(err)
	}

	var st Stats
	if code := adminDo(t, ts, "GET", "/sim/v1/stats", "", &st); code != 200 {
		t.Fatalf("GET stats: %d", code)
	}
	if st.Count("DescribeRouteEntryList", "ok") != 2 || st.Count("CreateRouteEntry", "ok") != 1 ||
		st.Count("CreateRouteEntry", CodeDuplicate) != 1 || st.Count("DescribeInstances", "ok") != 1 {
		t.Errorf("actions = %+v", st.Actions)
	}
	if st.Reads != 3 || st.Writes != 2 || st.Total != 5 {
		t.Errorf("reads=%d writes=%d total=%d, want 3 2 5", st.Reads, st.Writes, st.Total)
	}
	// Metadata and admin calls are not API calls.
	httpGet(t, ts.HTTP.Client(), ts.MetadataURL("i-aaa")+"/latest/meta-data/instance-id")
	if got := ts.Stats().Total; got != 5 {
		t.Errorf("total after a metadata call = %d", got)
	}
	var after Stats
	if code := adminDo(t, ts, "POST", "/sim/v1/stats/reset", "", &after); code != 200 || after.Total != 0 || len(after.Actions) != 0 {
		t.Errorf("reset: %d %+v", code, after)
	}
}

func TestAdminRoutesAndUnownedEntry(t *testing.T) {
	ts := start(t)
	var put Entry
	body := `{"table":"vtb-lab","destination":"172.16.0.0/12","nextHopType":"VpnGateway","nextHopId":"vpn-1","name":"vpn","description":"not vpcroute's"}`
	if code := adminDo(t, ts, "POST", "/sim/v1/routes", body, &put); code != 200 || put.Status != "Available" || put.ID == "" {
		t.Fatalf("put: %d %+v", code, put)
	}
	e := entryByDest(listEntries(t, ts, nil), "172.16.0.0/12")
	if e == nil || e.RouteEntryName != "vpn" || e.Description != "not vpcroute's" || e.NextHops.NextHop[0].NextHopType != "VpnGateway" {
		t.Fatalf("SDK view of the put entry: %+v", e)
	}

	var routes struct {
		Region string  `json:"region"`
		Tables []Table `json:"tables"`
	}
	if code := adminDo(t, ts, "GET", "/sim/v1/routes", "", &routes); code != 200 || routes.Region != testRegion || len(routes.Tables) != 1 {
		t.Fatalf("routes: %d %+v", code, routes)
	}
	found := false
	for _, en := range routes.Tables[0].Entries {
		found = found || (en.Destination == "172.16.0.0/12" && en.Type == "Custom" && en.NextHopID == "vpn-1")
	}
	if !found {
		t.Errorf("GET routes lacks the put entry: %+v", routes.Tables[0].Entries)
	}

	if code := adminDo(t, ts, "DELETE", "/sim/v1/routes?table=vtb-lab&destination=172.16.0.0/12", "", nil); code != 200 {
		t.Fatalf("delete: %d", code)
	}
	if entryByDest(listEntries(t, ts, nil), "172.16.0.0/12") != nil {
		t.Error("deleted entry still listed")
	}
	var errBody map[string]string
	if code := adminDo(t, ts, "DELETE", "/sim/v1/routes?table=vtb-lab&destination=172.16.0.0/12", "", &errBody); code != 404 {
		t.Errorf("delete again: %d %v", code, errBody)
	}
	if code := adminDo(t, ts, "DELETE", "/sim/v1/routes?table=vtb-lab&destination=192.168.1.0/24", "", &errBody); code != 400 {
		t.Errorf("delete of a System entry: %d %v", code, errBody)
	}
}

func TestAdminHeldPendingEntryBlocksVPC(t *testing.T) {
	ts := start(t)
	body := `{"table":"vtb-lab","destination":"10.7.0.0/24","nextHopType":"Instance","nextHopId":"i-aaa","status":"Pending","hold":true}`
	if code := adminDo(t, ts, "POST", "/sim/v1/routes", body, nil); code != 200 {
		t.Fatalf("put: %d", code)
	}
	ts.Settle() // held entries do not settle
	req := at(ts, vpc.CreateCreateRouteEntryRequest())
	req.RouteTableId, req.DestinationCidrBlock, req.NextHopType, req.NextHopId = testTable, "10.8.0.0/24", "Instance", "i-bbb"
	_, err := vpcClient(t).CreateRouteEntry(req)
	wantServerError(t, err, 400, CodeIncorrectEntryStatus)
	if _, err := ts.PutRoute(PutRouteRequest{Table: testTable, Destination: "10.7.0.0/24", NextHopType: "Instance", NextHopID: "i-aaa"}); err != nil {
		t.Fatal(err)
	}
	if _, err := vpcClient(t).CreateRouteEntry(req); err != nil {
		t.Errorf("after the held entry became Available: %v", err)
	}
}

func TestAdminBadInput(t *testing.T) {
	ts := start(t)
	cases := []struct{ method, path, body, want string }{
		{"POST", "/sim/v1/routes", `{"table":"vtb-lab","destination":"10.0.0.1/24","nextHopType":"Instance","nextHopId":"i-aaa"}`, `destination="10.0.0.1/24"`},
		{"POST", "/sim/v1/routes", `{"table":"vtb-nope","destination":"10.0.0.0/24","nextHopType":"Instance","nextHopId":"i-aaa"}`, `table="vtb-nope"`},
		{"POST", "/sim/v1/routes", `{"table":"vtb-lab","destination":"10.0.0.0/24","nextHopType":"Instance","nextHopId":"i-aaa","colour":"red"}`, `unknown field "colour"`},
		{"POST", "/sim/v1/instances", `{"id":"i-ccc","privateIp":"10.0.0.5"}`, `instance.privateIp="10.0.0.5"`},
		{"POST", "/sim/v1/instances", `{"id":"i-ccc","privateIp":"192.168.1.196"}`, "not used by instance i-aaa"},
		{"POST", "/sim/v1/faults", `{"action":"Teleport","code":"X"}`, `faults[0].action="Teleport"`},
		{"POST", "/sim/v1/faults", `[{"action":"CreateRouteEntry"}]`, `faults[0].code=""`},
		{"POST", "/sim/v1/behaviour", `{"pendingDelay":"soon"}`, `behaviour.pendingDelay="soon"`},
		{"POST", "/sim/v1/behaviour", `{"conflictCode":"Nope"}`, `behaviour.conflictCode="Nope"`},
	}
	for _, tc := range cases {
		var body map[string]string
		code := adminDo(t, ts, tc.method, tc.path, tc.body, &body)
		if code != 400 || !strings.Contains(body["error"], tc.want) || strings.Contains(body["error"], "\n") {
			t.Errorf("%s %s %s: %d %q, want 400 mentioning %q on one line", tc.method, tc.path, tc.body, code, body["error"], tc.want)
		}
	}
	if len(ts.Faults()) != 0 || len(ts.Instances()) != 2 || len(ts.Routes()[0].Entries) != 3 {
		t.Errorf("bad input changed state: faults=%v instances=%d entries=%d", ts.Faults(), len(ts.Instances()), len(ts.Routes()[0].Entries))
	}
	if code := adminDo(t, ts, "GET", "/sim/v1/nothing", "", nil); code != 404 {
		t.Errorf("unknown endpoint: %d", code)
	}
}

func TestAdminInstancesFaultsBehaviour(t *testing.T) {
	ts := start(t)
	if code := adminDo(t, ts, "POST", "/sim/v1/instances", `{"id":"i-ccc","privateIp":"192.168.1.198","ramRole":"vpcroute-node"}`, nil); code != 200 {
		t.Fatalf("add instance: %d", code)
	}
	createEntry(t, ts, "10.2.0.0/24", "i-ccc")
	if code := adminDo(t, ts, "DELETE", "/sim/v1/instances/i-ccc?deleteRoutes=true", "", nil); code != 200 {
		t.Fatalf("remove instance: %d", code)
	}
	if entryByDest(listEntries(t, ts, nil), "10.2.0.0/24") != nil {
		t.Error("deleteRoutes=true left the instance's entry")
	}
	if code := adminDo(t, ts, "DELETE", "/sim/v1/instances/i-ccc", "", nil); code != 404 {
		t.Errorf("remove twice: %d", code)
	}

	var faults []FaultRule
	if code := adminDo(t, ts, "POST", "/sim/v1/faults", `[{"action":"CreateRouteEntries","code":"TaskConflict","count":2},{"code":"ServiceUnavailable","probability":0.1}]`, &faults); code != 200 || len(faults) != 2 {
		t.Fatalf("post faults: %d %+v", code, faults)
	}
	if code := adminDo(t, ts, "DELETE", "/sim/v1/faults", "", &faults); code != 200 || len(faults) != 0 {
		t.Errorf("clear faults: %d %+v", code, faults)
	}

	var b map[string]any
	if code := adminDo(t, ts, "POST", "/sim/v1/behaviour", `{"pendingDelay":"250ms","quota":10}`, &b); code != 200 {
		t.Fatalf("patch behaviour: %d %v", code, b)
	}
	if b["pendingDelay"] != "250ms" || b["quota"] != float64(10) || b["conflictCode"] != CodeIncorrectEntryStatus {
		t.Errorf("behaviour after patch = %v", b)
	}
	if got := *ts.Behaviour().PendingDelay; got != 250*time.Millisecond {
		t.Errorf("pending delay = %v", got)
	}
}
