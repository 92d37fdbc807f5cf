package lab

import (
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/cloud/sim"
)

func TestPlanHost(t *testing.T) {
	tests := []struct {
		i                  int
		name, instance, ip string
	}{
		{0, "host0", "i-aaa", "192.168.1.196"},
		{1, "host1", "i-bbb", "192.168.1.197"},
		{25, "host25", "i-zzz", "192.168.1.221"},
	}
	for _, tc := range tests {
		p, err := PlanHost(tc.i)
		if err != nil {
			t.Fatalf("PlanHost(%d): %v", tc.i, err)
		}
		if p.Name != tc.name || p.InstanceID != tc.instance || p.IP.String() != tc.ip {
			t.Errorf("PlanHost(%d) = %+v, want %s %s %s", tc.i, p, tc.name, tc.instance, tc.ip)
		}
		if !netip.MustParsePrefix(VSwitchCIDR).Contains(p.IP) {
			t.Errorf("PlanHost(%d): address %s outside the vswitch %s", tc.i, p.IP, VSwitchCIDR)
		}
		if netip.MustParseAddr(RouterIP) == p.IP {
			t.Errorf("PlanHost(%d): host address is the router's", tc.i)
		}
	}
	for _, bad := range []int{-1, MaxHosts} {
		if _, err := PlanHost(bad); err == nil || !strings.Contains(err.Error(), "host index") {
			t.Errorf("PlanHost(%d) error = %v, want one naming the host index", bad, err)
		}
	}
}

// TestSimTopologyParsesWithSimulator checks the contract with cloud/sim:
// the YAML the lab writes is what the simulator's own parser accepts, with
// every host an instance and the unowned internet route in the table.
func TestSimTopologyParsesWithSimulator(t *testing.T) {
	var hosts []HostPlan
	for i := 0; i < 3; i++ {
		p, err := PlanHost(i)
		if err != nil {
			t.Fatal(err)
		}
		hosts = append(hosts, p)
	}
	y, err := SimTopology(hosts, 500*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	topo, err := sim.ParseTopology(y)
	if err != nil {
		t.Fatalf("simulator rejects the lab topology: %v", err) // the YAML holds the lab credential: not printed
	}
	if len(topo.Instances) != 3 || topo.Instances[2].ID != "i-ccc" || topo.Instances[2].PrivateIP != "192.168.1.198" {
		t.Errorf("instances = %+v, want i-aaa..i-ccc at .196..198", topo.Instances)
	}
	if len(topo.RouteTables) != 1 || len(topo.RouteTables[0].Routes) != 1 || topo.RouteTables[0].Routes[0].Destination != "0.0.0.0/0" {
		t.Errorf("route tables = %+v, want vtb-lab with the internet route", topo.RouteTables)
	}
	if topo.Behaviour.PendingDelay == nil || *topo.Behaviour.PendingDelay != 500*time.Millisecond {
		t.Errorf("pending delay = %v, want 500ms", topo.Behaviour.PendingDelay)
	}
}

func TestParseListening(t *testing.T) {
	tests := []struct {
		line, want string
		ok         bool
	}{
		{"listening on 192.168.1.253:41234", "192.168.1.253:41234", true},
		{"2026-01-01 INFO listening on http://192.168.1.253:80 (api)", "192.168.1.253:80", true},
		{"listening on unix:/tmp/x/sim.sock", "", false},
		{"listening on 127.0.0.1:5000", "", false},
		{"listening on 192.168.1.253:0", "", false},
		{"starting", "", false},
	}
	for _, tc := range tests {
		got, ok := parseListening(tc.line)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseListening(%q) = %q, %v; want %q, %v", tc.line, got, ok, tc.want, tc.ok)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		want string // substring of the error; "" for valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"aws", func(c *Config) { c.Provider = ProviderAWS }, ""},
		{"unknown provider", func(c *Config) { c.Provider = "gcp" }, `provider: "gcp" (want aliyun or aws)`},
		{"one host", func(c *Config) { c.Hosts = 1 }, "hosts: 1 (want 2 to 26)"},
		{"too many hosts", func(c *Config) { c.Hosts = 27 }, "hosts: 27"},
		{"prefix with dash", func(c *Config) { c.Prefix = "a-b" }, `prefix: "a-b"`},
		{"relative work dir", func(c *Config) { c.WorkDir = "tmp" }, `work dir: "tmp"`},
		{"long work dir", func(c *Config) { c.WorkDir = "/" + strings.Repeat("x", 50) }, "at most 40 bytes"},
		{"missing binaries", func(c *Config) { c.BinDir = t.TempDir() }, "has no executable vpcroute"},
		{"negative delay", func(c *Config) { c.PendingDelay = -time.Second }, "pending delay: -1s"},
		{"incomplete extra route", func(c *Config) { c.ExtraRoutes = []SimRoute{{Destination: "172.16.0.0/12"}} }, "extra routes[0]"},
		{"etcd without binaries", func(c *Config) { c.Etcd = true }, "etcd: true with an empty bin dir"},
		{"short lease", func(c *Config) { c.Daemon.LeaseTTL = time.Second }, "daemon lease ttl: 1s (want at least 2s)"},
		{"silent before a heartbeat", func(c *Config) { c.Daemon.HeartbeatInterval = 10 * time.Second }, "daemon silent after: 6s (want more than the heartbeat interval 10s)"},
		{"negative debounce", func(c *Config) { c.Daemon.Debounce = -time.Second }, "daemon debounce: -1s"},
		{"derived allocator", func(c *Config) { c.Allocator = "derived" }, ""},
		{"leased without etcd", func(c *Config) { c.Allocator = "leased" }, `allocator: "leased" without etcd`},
		{"unknown allocator", func(c *Config) { c.Allocator = "random" }, `allocator: "random" (want derived, leased or empty)`},
		{"daemon timings set", func(c *Config) {
			c.Daemon = DaemonConfig{HostCheckInterval: 2 * time.Second, ResyncInterval: 5 * time.Second}
		}, ""},
	}
	for _, tc := range tests {
		c := Config{}
		tc.edit(&c)
		err := c.withDefaults().Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v, want valid", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		case err != nil && strings.Contains(err.Error(), "\n"):
			t.Errorf("%s: error spans lines: %q", tc.name, err)
		}
	}
}

var runIDRE = regexp.MustCompile(`^vrl[0-9]+[0-9a-f]{4}$`)

func TestNewRunIDUnique(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 50; i++ {
		id, err := newRunID("vrl")
		if err != nil {
			t.Fatal(err)
		}
		if !runIDRE.MatchString(id) {
			t.Fatalf("run id %q: want vrl + pid + 4 hex digits", id)
		}
		seen[id] = true
	}
	if len(seen) < 40 { // 16 random bits: a few collisions in 50 are possible, many are a bug
		t.Errorf("only %d distinct ids in 50", len(seen))
	}
}
