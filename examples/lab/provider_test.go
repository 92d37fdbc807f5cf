package lab

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/vpcroute/vpcroute/cloud/sim"
)

func TestPlanAWSHost(t *testing.T) {
	tests := []struct {
		i             int
		instance, eni string
		ip            string
	}{
		{0, "i-0aaaaaaaaaaaaaaaa", "eni-0aaaaaaaaaaaaaaaa", "192.168.1.196"},
		{2, "i-0cccccccccccccccc", "eni-0cccccccccccccccc", "192.168.1.198"},
		{25, "i-0zzzzzzzzzzzzzzzz", "eni-0zzzzzzzzzzzzzzzz", "192.168.1.221"},
	}
	for _, tc := range tests {
		p, err := PlanAWSHost(tc.i)
		if err != nil {
			t.Fatalf("PlanAWSHost(%d): %v", tc.i, err)
		}
		if p.InstanceID != tc.instance || p.ENI != tc.eni || p.IP.String() != tc.ip {
			t.Errorf("PlanAWSHost(%d) = %+v, want %s %s %s", tc.i, p, tc.instance, tc.eni, tc.ip)
		}
		if typ, id, state := p.RouteTarget(); typ != "NetworkInterface" || id != tc.eni || state != "active" {
			t.Errorf("PlanAWSHost(%d).RouteTarget() = %s %s %s, want NetworkInterface %s active", tc.i, typ, id, state, tc.eni)
		}
	}
	if _, err := PlanAWSHost(MaxHosts); err == nil || !strings.Contains(err.Error(), "host index") {
		t.Errorf("PlanAWSHost(%d) error = %v, want one naming the host index", MaxHosts, err)
	}
	p, _ := PlanHost(0)
	if typ, id, state := p.RouteTarget(); typ != "Instance" || id != "i-aaa" || state != "Available" || p.Target() != "i-aaa" {
		t.Errorf("PlanHost(0).RouteTarget() = %s %s %s, target %q; want Instance i-aaa Available", typ, id, state, p.Target())
	}
}

// awsTestSim runs the EC2 lab's topology in-process, for contract tests
// with cloud/sim.
func awsTestSim(t *testing.T, hosts int) (*sim.TestServer, []HostPlan) {
	t.Helper()
	var plans []HostPlan
	for i := 0; i < hosts; i++ {
		p, err := PlanAWSHost(i)
		if err != nil {
			t.Fatal(err)
		}
		plans = append(plans, p)
	}
	y, err := AWSSimTopology(plans)
	if err != nil {
		t.Fatal(err)
	}
	topo, err := sim.ParseTopology(y)
	if err != nil {
		t.Fatalf("simulator rejects the EC2 lab topology: %v", err) // the YAML holds the lab key: not printed
	}
	return sim.NewTestServer(t, topo), plans
}

func getJSON(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %v: %s", url, resp.Status, err, b)
	}
	return b
}

// TestAWSSimTopologyAgainstSimulator checks the contract with cloud/sim:
// the simulator accepts the EC2 lab's topology and serves every unowned
// route in its table (the dead NAT gateway's as blackhole), every host as
// an instance whose primary ENI starts with the check on, and an ENI route
// that the parser reads as that ENI, however its JSON keys are ordered.
func TestAWSSimTopologyAgainstSimulator(t *testing.T) {
	ts, hosts := awsTestSim(t, 3)
	es, err := ParseSimRoutes(getJSON(t, ts.URL+"/sim/v1/routes"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range AWSUnownedRoutes {
		e, ok := FindEntry(es, r.Table, r.Destination)
		want := "active"
		if r == AWSDeadNATRoute {
			want = StatusBlackhole
		}
		if !ok || e.NextHopType != r.NextHopType || e.NextHopID != r.NextHopID || e.Status != want {
			t.Errorf("unowned route %s in %s = %+v (found %v), want -> %s %s (%s)", r.Destination, r.Table, e, ok, r.NextHopType, r.NextHopID, want)
		}
	}
	var instances []simInstanceState
	if err := json.Unmarshal(getJSON(t, ts.URL+"/sim/v1/instances"), &instances); err != nil {
		t.Fatal(err)
	}
	if len(instances) != len(hosts) {
		t.Fatalf("%d instances, want %d", len(instances), len(hosts))
	}
	for i, in := range instances {
		if in.ID != hosts[i].InstanceID || in.ENI != hosts[i].ENI || in.SourceDestCheck == nil || !*in.SourceDestCheck {
			t.Errorf("instance %d = %+v, want %s with ENI %s, check on", i, in, hosts[i].InstanceID, hosts[i].ENI)
		}
	}

	h, subnet := hosts[1], "10.1.197.0/24"
	body := `{"table":"` + AWSRouteTableID + `","destination":"` + subnet + `","nextHopType":"NetworkInterface","nextHopId":"` + h.ENI + `"}`
	resp, err := http.Post(ts.URL+"/sim/v1/routes", "application/json", bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("put ENI route: %s", resp.Status)
	}
	raw := getJSON(t, ts.URL+"/sim/v1/routes")
	// Map order varies from parse to parse: a parser that picked
	// instanceId over nextHopId would fail some of these rounds.
	for round := 0; round < 20; round++ {
		es, err := ParseSimRoutes(raw)
		if err != nil {
			t.Fatal(err)
		}
		e, ok := FindEntry(es, AWSRouteTableID, subnet)
		typ, id, state := h.RouteTarget()
		if !ok || e.NextHopType != typ || e.NextHopID != id || e.Status != state {
			t.Fatalf("round %d: ENI route = %+v (found %v), want -> %s %s (%s)", round, e, ok, typ, id, state)
		}
	}
}

func TestCheckedPorts(t *testing.T) {
	var hosts []*Host
	for i := 0; i < 3; i++ {
		p, _ := PlanAWSHost(i)
		hosts = append(hosts, &Host{HostPlan: p})
	}
	on, off := true, false
	instances := []simInstanceState{
		{ID: hosts[0].InstanceID, ENI: hosts[0].ENI, SourceDestCheck: &on},
		{ID: hosts[1].InstanceID, ENI: hosts[1].ENI, SourceDestCheck: &off},
		{ID: hosts[2].InstanceID}, // terminated: no ENI listed
		{ID: "i-0other", ENI: "eni-0other", SourceDestCheck: &on},
	}
	got := checkedPorts(hosts, instances)
	want := []sdcPort{{Port: "h0", IP: netip.MustParseAddr("192.168.1.196")}}
	if len(got) != len(want) || got[0] != want[0] {
		t.Errorf("checkedPorts = %+v, want %+v", got, want)
	}
	// An instance the simulator does not know yet (a host joining) is not
	// checked: there is nothing to decide from.
	if got := checkedPorts(hosts, nil); len(got) != 0 {
		t.Errorf("checkedPorts without instances = %+v, want none", got)
	}
}

func TestRenderSDCRules(t *testing.T) {
	empty := "*filter\n:INPUT ACCEPT\n:FORWARD ACCEPT\n:OUTPUT ACCEPT\nCOMMIT\n"
	if got := renderSDCRules(nil); got != empty {
		t.Errorf("no ports:\n%s\nwant\n%s", got, empty)
	}
	ports := []sdcPort{{Port: "h1", IP: netip.MustParseAddr("192.168.1.197")}, {Port: "h0", IP: netip.MustParseAddr("192.168.1.196")}}
	got := renderSDCRules(ports)
	want := "*filter\n:INPUT ACCEPT\n:FORWARD ACCEPT\n:OUTPUT ACCEPT\n" +
		"-A INPUT -p IPv4 -i h0 --ip-src ! 192.168.1.196 -j DROP\n" +
		"-A FORWARD -p IPv4 -i h0 --ip-src ! 192.168.1.196 -j DROP\n" +
		"-A FORWARD -p IPv4 -o h0 --ip-dst ! 192.168.1.196 -j DROP\n" +
		"-A OUTPUT -p IPv4 -o h0 --ip-dst ! 192.168.1.196 -j DROP\n" +
		"-A INPUT -p IPv4 -i h1 --ip-src ! 192.168.1.197 -j DROP\n" +
		"-A FORWARD -p IPv4 -i h1 --ip-src ! 192.168.1.197 -j DROP\n" +
		"-A FORWARD -p IPv4 -o h1 --ip-dst ! 192.168.1.197 -j DROP\n" +
		"-A OUTPUT -p IPv4 -o h1 --ip-dst ! 192.168.1.197 -j DROP\n" +
		"COMMIT\n"
	if got != want {
		t.Errorf("rules:\n%s\nwant\n%s", got, want)
	}
	// The order of the input does not change the rules: the guard
	// compares renderings to decide whether to reload.
	if again := renderSDCRules([]sdcPort{ports[1], ports[0]}); again != got {
		t.Errorf("rendering depends on input order:\n%s\nvs\n%s", again, got)
	}
}

func TestAWSVpcrouteEnvHasNoSecrets(t *testing.T) {
	env := awsVpcrouteEnv("http://192.168.1.253:1234")
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if strings.Contains(k, "SECRET") || strings.Contains(k, "ACCESS_KEY") || strings.Contains(k, "TOKEN") || v == awsSecretKey {
			t.Errorf("vpcroute's environment carries a credential: %s", k)
		}
		if strings.HasPrefix(k, "AWS_ENDPOINT_URL") || k == "AWS_EC2_METADATA_SERVICE_ENDPOINT" {
			if v != "http://192.168.1.253:1234" {
				t.Errorf("%s = %q, want the simulator", k, v)
			}
		}
	}
}
