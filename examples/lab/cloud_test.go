package lab

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/cloud/sim"
)

// TestCloudsAgainstSimulator: each lab cloud's topology is a world of the
// simulator's dialect of the same name, holding the cloud's route table and
// every planned host; a host added as simInstance renders it is accepted;
// a route to it as RouteTarget names it forwards in the state RouteTarget
// promises; and the vpcroute environment carries no secret but the
// lab's own key.
func TestCloudsAgainstSimulator(t *testing.T) {
	for _, c := range Clouds() {
		t.Run(c.Name(), func(t *testing.T) {
			var hosts []HostPlan
			for i := 0; i < 3; i++ {
				p, err := c.planHost(i)
				if err != nil {
					t.Fatal(err)
				}
				hosts = append(hosts, p)
			}
			y, err := c.simTopology(hosts[:2], 500*time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			topo, err := sim.ParseTopology(y)
			if err != nil {
				t.Fatalf("simulator rejects the %s lab topology: %v", c.Name(), err) // the YAML holds the lab key: not printed
			}
			srv := sim.NewTestServer(t, topo).Server
			if srv.Provider() != c.Name() {
				t.Fatalf("the %s lab's world speaks %q", c.Name(), srv.Provider())
			}
			var spec sim.InstanceSpec
			raw, err := json.Marshal(c.simInstance(hosts[2]))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(raw, &spec); err != nil {
				t.Fatal(err)
			}
			if err := srv.AddInstance(spec); err != nil {
				t.Fatalf("add host 2: %v", err)
			}
			have := map[string]bool{}
			for _, in := range srv.Instances() {
				have[in.ID] = true
			}
			for _, h := range hosts {
				if !have[h.InstanceID] {
					t.Errorf("instance %s of %s missing from the world", h.InstanceID, h.Name)
				}
			}
			hop, id, forwarding := hosts[2].RouteTarget()
			if _, err := srv.PutRoute(sim.PutRouteRequest{Table: c.routeTableID(), Destination: "10.1.198.0/24", NextHopType: hop, NextHopID: id}); err != nil {
				t.Fatalf("route to host 2 in %s: %v", c.routeTableID(), err)
			}
			srv.Settle()
			found := false
			for _, tb := range srv.Routes() {
				for _, e := range tb.Entries {
					if tb.ID == c.routeTableID() && e.Destination == "10.1.198.0/24" {
						found = true
						if e.Status != forwarding {
							t.Errorf("route to host 2 is %s, want %s", e.Status, forwarding)
						}
					}
				}
			}
			if !found {
				t.Errorf("no route to host 2 in %s", c.routeTableID())
			}
			for _, kv := range c.vpcrouteEnv("http://192.168.1.253:1234") {
				if kv == "AWS_SECRET_ACCESS_KEY="+awsSecretKey {
					t.Errorf("the vpcroute environment holds the lab's AWS secret")
				}
			}
		})
	}
}

// TestCloudFor: every listed cloud is found by its name, the default
// is the first, and anything else is one line naming the value and the
// choices.
func TestCloudFor(t *testing.T) {
	for _, c := range Clouds() {
		got, err := CloudFor(c.Name())
		if err != nil || got != c {
			t.Errorf("CloudFor(%q) = %v, %v", c.Name(), got, err)
		}
	}
	if got := (Config{}).withDefaults().Provider; got != Clouds()[0].Name() {
		t.Errorf("default provider %q, want %q", got, Clouds()[0].Name())
	}
	for _, name := range []string{"", "gcp", "AWS"} {
		_, err := CloudFor(name)
		if want := `provider: "` + name + `" (want aliyun or aws)`; err == nil || err.Error() != want {
			t.Errorf("CloudFor(%q): %v, want %s", name, err, want)
		}
	}
}
