package sim

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDefaultTopology(t *testing.T) {
	topo := DefaultTopology()
	if topo.Region != testRegion || topo.VPC == nil || topo.VPC.CIDR != "192.168.0.0/16" {
		t.Fatalf("default topology = %+v", topo)
	}
	if len(topo.Instances) != 2 || topo.Instances[0].PrivateIP != "192.168.1.196" || topo.Instances[1].PrivateIP != "192.168.1.197" {
		t.Errorf("instances = %+v", topo.Instances)
	}
	if topo.Behaviour.PendingDelay == nil || *topo.Behaviour.PendingDelay != 2*time.Second {
		t.Errorf("pendingDelay = %v", topo.Behaviour.PendingDelay)
	}
	s, err := New(topo)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b := s.Behaviour()
	if *b.PendingDelay != DefaultPendingDelay || b.Quota != DefaultQuota || b.ConflictCode != CodeIncorrectEntryStatus || b.Signature != "verify" {
		t.Errorf("resolved behaviour = %+v", b)
	}
}

func TestParseTopologyFull(t *testing.T) {
	src := `
region: cn-hangzhou
vpcs:
  - {id: vpc-a, cidr: 172.16.0.0/16, secondaryCidrs: [172.20.0.0/16]}
  - {id: vpc-b, cidr: 10.10.0.0/16}
vswitches:
  - {id: vsw-a1, cidr: 172.16.1.0/24, vpc: vpc-a}
  - {id: vsw-a2, cidr: 172.20.1.0/24, vpc: vpc-a}
  - {id: vsw-b1, cidr: 10.10.1.0/24, vpc: vpc-b}
routeTables:
  - {id: vtb-a-custom, type: Custom, vpc: vpc-a, vswitches: [vsw-a2]}
instances:
  - {id: i-a, privateIp: 172.16.1.10, vswitch: vsw-a1}
  - {id: i-b, privateIp: 10.10.1.10, vswitch: vsw-b1, status: Stopped}
credentials: [{accessKeyId: k, accessKeySecret: s}]
behaviour:
  pendingDelay: 100ms
  latency: 5ms
  throttle: {reads: {capacity: 100, refillPerSecond: 20}, writes: {capacity: 20, refillPerSecond: 5}}
faults: [{action: CreateRouteEntry, code: TaskConflict, count: 1}]
`
	topo, err := ParseTopology([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(topo)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tables := s.Routes()
	ids := map[string]Table{}
	for _, tb := range tables {
		ids[tb.ID] = tb
	}
	// vpc-b gets a generated System table; vpc-a's System table is generated
	// too and keeps the vswitch the Custom table does not claim.
	if len(tables) != 3 || ids["vtb-b"].VPCID != "vpc-b" || ids["vtb-a"].Type != "System" {
		t.Fatalf("tables = %+v", tables)
	}
	if got := ids["vtb-a"].VSwitches; len(got) != 1 || got[0] != "vsw-a1" {
		t.Errorf("System table of vpc-a binds %v, want [vsw-a1]", got)
	}
	// Every table has System entries for its VPC's vswitches plus the cloud
	// service range.
	if n := len(ids["vtb-a-custom"].Entries); n != 3 {
		t.Errorf("vtb-a-custom has %d entries, want 3 System ones", n)
	}
	if len(s.Faults()) != 1 || *s.Behaviour().PendingDelay != 100*time.Millisecond {
		t.Errorf("faults %v, behaviour %+v", s.Faults(), s.Behaviour())
	}
}

func TestTopologyValidation(t *testing.T) {
	base := `region: r1
vpc: {id: vpc-1, cidr: 192.168.0.0/16}
vswitches: [{id: vsw-1, cidr: 192.168.1.0/24}]
instances: [{id: i-1, privateIp: 192.168.1.10}]
credentials: [{accessKeyId: k, accessKeySecret: s}]
`
	cases := []struct {
		name, yaml, want string
	}{
		{"empty", ``, "empty document"},
		{"unknown field", base + "colour: red\n", "field colour not found"},
		{"no region", strings.Replace(base, "region: r1", "region: ''", 1), `region="": expected an ID`},
		{"no vpc", "region: r1\nvswitches: [{id: vsw-1, cidr: 192.168.1.0/24}]\n", `vpc="": expected a VPC`},
		{"bad vpc cidr", strings.Replace(base, "192.168.0.0/16", "192.168.0.0/33", 1), `vpc.cidr="192.168.0.0/33": expected an IPv4 CIDR`},
		{"host bits", strings.Replace(base, "192.168.0.0/16", "192.168.1.0/16", 1), `vpc.cidr="192.168.1.0/16": expected the network address 192.168.0.0/16`},
		{"vswitch outside vpc", strings.Replace(base, "192.168.1.0/24}]", "10.0.1.0/24}]", 1), `vswitches[0].cidr="10.0.1.0/24": expected a range inside VPC vpc-1`},
		{"overlapping vswitches", strings.Replace(base, "vswitches: [{id: vsw-1, cidr: 192.168.1.0/24}]", "vswitches: [{id: vsw-1, cidr: 192.168.1.0/24}, {id: vsw-2, cidr: 192.168.1.128/25}]", 1), `vswitches[1].cidr="192.168.1.128/25": expected a range not overlapping vswitch vsw-1`},
		{"instance ip outside", strings.Replace(base, "192.168.1.10", "192.168.2.10", 1), `instances[0].privateIp="192.168.2.10": expected a host address inside vswitch vsw-1`},
		{"instance ip garbage", strings.Replace(base, "192.168.1.10", "hostA", 1), `instances[0].privateIp="hostA": expected an IPv4 address`},
		{"duplicate instance", strings.Replace(base, "instances: [{id: i-1, privateIp: 192.168.1.10}]", "instances: [{id: i-1, privateIp: 192.168.1.10}, {id: i-1, privateIp: 192.168.1.11}]", 1), `instances[1].id="i-1": expected a unique instance ID`},
		{"instance status", strings.Replace(base, "192.168.1.10}", "192.168.1.10, status: Asleep}", 1), `instances[0].status="Asleep": expected Running or Stopped`},
		{"unknown vswitch", strings.Replace(base, "192.168.1.10}", "192.168.1.10, vswitch: vsw-9}", 1), `instances[0].vswitch="vsw-9"`},
		{"empty secret", strings.Replace(base, "accessKeySecret: s", "accessKeySecret: ''", 1), `credentials[0].accessKeySecret=""`},
		{"duplicate key", strings.Replace(base, "credentials: [{accessKeyId: k, accessKeySecret: s}]", "credentials: [{accessKeyId: k, accessKeySecret: s}, {accessKeyId: k, accessKeySecret: t}]", 1), `credentials[1].accessKeyId="k": expected a unique`},
		{"bad duration", base + "behaviour: {pendingDelay: soon}\n", "pendingDelay"},
		{"unknown behaviour key", base + "behaviour: {pendingDelai: 1s}\n", "field pendingDelai not found"},
		{"negative quota", base + "behaviour: {quota: -1}\n", `behaviour.quota="-1"`},
		{"conflict code", base + "behaviour: {conflictCode: Oops}\n", `behaviour.conflictCode="Oops"`},
		{"signature", base + "behaviour: {signature: maybe}\n", `behaviour.signature="maybe"`},
		{"throttle", base + "behaviour: {throttle: {writes: {capacity: -3}}}\n", `behaviour.throttle.writes.capacity="-3"`},
		{"fault", base + "faults: [{action: CreateRouteEntry, code: X, probability: 2}]\n", `faults[0].probability="2"`},
		{"two system tables", base + "routeTables: [{id: vtb-1}, {id: vtb-2}]\n", `routeTables[1].type="": expected Custom: VPC vpc-1 already has System table vtb-1`},
		{"route on vswitch", base + "routeTables: [{id: vtb-1, routes: [{destination: 192.168.1.0/25, nextHopType: Instance, nextHopId: i-1}]}]\n", `routeTables[0].routes[0]: Specified CIDR block overlapped with other subnets: 192.168.1.0/25 is the same as or inside`},
		{"route to missing instance", base + "routeTables: [{id: vtb-1, routes: [{destination: 10.0.0.0/24, nextHopType: Instance, nextHopId: i-9}]}]\n", `routeTables[0].routes[0]: The specified instance i-9 does not exist`},
		{"both vpc forms", base + "vpcs: [{id: vpc-2, cidr: 10.0.0.0/8}]\n", `vpc="vpc-1": expected either vpc or vpcs`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseTopology([]byte(tc.yaml))
			if err == nil {
				t.Fatalf("accepted; want an error mentioning %q", tc.want)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "topology: ") {
				t.Errorf("error %q: want one line starting with \"topology: \" mentioning %q", msg, tc.want)
			}
			if strings.Contains(msg, "accessKeySecret: s") || strings.Contains(msg, `"s"`) {
				t.Errorf("error leaks a secret: %q", msg)
			}
		})
	}
}

func TestTopologyZeroDelay(t *testing.T) {
	topo, err := ParseTopology(append(DefaultTopologyYAML(), "  latency: 0\n"...))
	if err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(string(DefaultTopologyYAML()), "pendingDelay: 2s", "pendingDelay: 0", 1)
	if topo, err = ParseTopology([]byte(src)); err != nil {
		t.Fatal(err)
	}
	if d := topo.Behaviour.PendingDelay; d == nil || *d != 0 {
		t.Errorf("pendingDelay: 0 decoded as %v", d)
	}
}

func TestLoadTopology(t *testing.T) {
	path := filepath.Join(t.TempDir(), "topo.yaml")
	if err := os.WriteFile(path, DefaultTopologyYAML(), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadTopology(path); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadTopology(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("missing file: %v", err)
	}
}
