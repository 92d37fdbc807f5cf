package sim

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"gopkg.in/yaml.v3"
)

// Topology is the simulated world: one region, its VPCs, vswitches, route
// tables, instances, the accepted credentials and the behaviour knobs. It is
// read from YAML (see LoadTopology) or built in Go.
type Topology struct {
	// Region is the region ID every request must name (RegionId).
	Region string `yaml:"region" json:"region"`
	// VPC is a shorthand for a single-VPC topology; VPCs lists several.
	VPC  *VPCSpec  `yaml:"vpc,omitempty" json:"vpc,omitempty"`
	VPCs []VPCSpec `yaml:"vpcs,omitempty" json:"vpcs,omitempty"`
	// VSwitches are the subnets of the VPCs.
	VSwitches []VSwitchSpec `yaml:"vswitches" json:"vswitches"`
	// RouteTables are the VPCs' route tables. A VPC without one gets a
	// System table "vtb-<vpc id>".
	RouteTables []RouteTableSpec `yaml:"routeTables,omitempty" json:"routeTables,omitempty"`
	// Instances are the ECS instances.
	Instances []InstanceSpec `yaml:"instances,omitempty" json:"instances,omitempty"`
	// Credentials are the accepted access keys.
	Credentials []CredentialSpec `yaml:"credentials,omitempty" json:"-"`
	// Behaviour holds the timing, quota, throttling and signature knobs.
	Behaviour Behaviour `yaml:"behaviour,omitempty" json:"behaviour"`
	// Faults are injected errors active from the start.
	Faults []FaultRule `yaml:"faults,omitempty" json:"faults,omitempty"`
}

// VPCSpec describes one VPC.
type VPCSpec struct {
	ID   string `yaml:"id" json:"id"`
	CIDR string `yaml:"cidr" json:"cidr"`
	// SecondaryCIDRs are extra IPv4 ranges of the VPC.
	SecondaryCIDRs []string `yaml:"secondaryCidrs,omitempty" json:"secondaryCidrs,omitempty"`
	// RouterID is the vRouter's ID; default "vrt-<vpc id>".
	RouterID string `yaml:"routerId,omitempty" json:"routerId,omitempty"`
	Name     string `yaml:"name,omitempty" json:"name,omitempty"`
}

// VSwitchSpec describes one vswitch.
type VSwitchSpec struct {
	ID   string `yaml:"id" json:"id"`
	CIDR string `yaml:"cidr" json:"cidr"`
	// Zone defaults to "<region>-a".
	Zone string `yaml:"zone,omitempty" json:"zone,omitempty"`
	// VPC may be omitted when the topology has a single VPC.
	VPC  string `yaml:"vpc,omitempty" json:"vpc,omitempty"`
	Name string `yaml:"name,omitempty" json:"name,omitempty"`
}

// RouteTableSpec describes one route table and the custom entries it starts
// with. System entries for every vswitch CIDR (and 100.64.0.0/10, the cloud
// service range) are added automatically.
type RouteTableSpec struct {
	ID string `yaml:"id" json:"id"`
	// Type is System (the VPC's default table, one per VPC) or Custom.
	Type string `yaml:"type,omitempty" json:"type,omitempty"`
	VPC  string `yaml:"vpc,omitempty" json:"vpc,omitempty"`
	Name string `yaml:"name,omitempty" json:"name,omitempty"`
	// VSwitches bound to this table; the System table gets every vswitch no
	// Custom table claims.
	VSwitches []string    `yaml:"vswitches,omitempty" json:"vswitches,omitempty"`
	Routes    []RouteSpec `yaml:"routes,omitempty" json:"routes,omitempty"`
}

// RouteSpec is a custom route entry present from the start (Available).
type RouteSpec struct {
	Destination string `yaml:"destination" json:"destination"`
	NextHopType string `yaml:"nextHopType" json:"nextHopType"`
	NextHopID   string `yaml:"nextHopId" json:"nextHopId"`
	Name        string `yaml:"name,omitempty" json:"name,omitempty"`
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
}

// InstanceSpec describes one ECS instance.
type InstanceSpec struct {
	ID        string `yaml:"id" json:"id"`
	PrivateIP string `yaml:"privateIp" json:"privateIp"`
	// VSwitch may be omitted when the topology has a single vswitch.
	VSwitch string `yaml:"vswitch,omitempty" json:"vswitch,omitempty"`
	// RAMRole is the instance RAM role served by the metadata service.
	RAMRole string `yaml:"ramRole,omitempty" json:"ramRole,omitempty"`
	// Status is Running (default) or Stopped.
	Status string `yaml:"status,omitempty" json:"status,omitempty"`
	// MAC defaults to one derived from the instance ID.
	MAC  string `yaml:"mac,omitempty" json:"mac,omitempty"`
	Name string `yaml:"name,omitempty" json:"name,omitempty"`
}

// CredentialSpec is an accepted access key. A SecurityToken makes it an STS
// credential: requests must then carry that token.
type CredentialSpec struct {
	AccessKeyID     string `yaml:"accessKeyId" json:"accessKeyId"`
	AccessKeySecret string `yaml:"accessKeySecret" json:"-"`
	SecurityToken   string `yaml:"securityToken,omitempty" json:"-"`
}

// Behaviour holds the knobs that make the simulator act like the real API.
// Zero values mean the documented defaults.
type Behaviour struct {
	// PendingDelay is how long a created entry stays Pending (and a deleted
	// or modified one Deleting/Modifying). Nil means 2s; 0 is immediate.
	PendingDelay *time.Duration `yaml:"pendingDelay,omitempty" json:"pendingDelay,omitempty"`
	// Quota is the number of custom entries per route table; 0 means 200.
	Quota int `yaml:"quota,omitempty" json:"quota,omitempty"`
	// ConflictCode answers a change in a busy VPC: IncorrectRouteEntryStatus
	// (default), TaskConflict, OperationConflict, or "alternate" to cycle
	// through the three.
	ConflictCode string `yaml:"conflictCode,omitempty" json:"conflictCode,omitempty"`
	// Latency is added to every RPC call.
	Latency time.Duration `yaml:"latency,omitempty" json:"latency,omitempty"`
	// Throttle limits calls per class; zero capacity means no limit.
	Throttle ThrottleSpec `yaml:"throttle,omitempty" json:"throttle"`
	// Signature is "verify" (default: HMAC-SHA1 as the SDK signs) or
	// "ignore".
	Signature string `yaml:"signature,omitempty" json:"signature,omitempty"`
	// STSLifetime is the validity of RAM role credentials; 0 means 6h.
	STSLifetime time.Duration `yaml:"stsLifetime,omitempty" json:"stsLifetime,omitempty"`
}

// ThrottleSpec configures the token buckets of the two action classes.
type ThrottleSpec struct {
	Reads  BucketSpec `yaml:"reads,omitempty" json:"reads"`
	Writes BucketSpec `yaml:"writes,omitempty" json:"writes"`
}

// BucketSpec is a token bucket: Capacity tokens, refilled at
// RefillPerSecond. Capacity 0 disables it.
type BucketSpec struct {
	Capacity        int     `yaml:"capacity,omitempty" json:"capacity"`
	RefillPerSecond float64 `yaml:"refillPerSecond,omitempty" json:"refillPerSecond"`
}

// Defaults of the behaviour knobs.
const (
	DefaultPendingDelay = 2 * time.Second
	DefaultQuota        = 200
	DefaultSTSLifetime  = 6 * time.Hour
)

//go:embed default_topology.yaml
var defaultTopologyYAML []byte

// DefaultTopology returns the lab's world: VPC 192.168.0.0/16, vswitch
// 192.168.1.0/24, instances i-aaa (192.168.1.196) and i-bbb (192.168.1.197)
// with RAM role vpcroute-node, and the access key LTAI-test/test-secret.
func DefaultTopology() Topology {
	t, err := ParseTopology(defaultTopologyYAML)
	if err != nil {
		// The file is embedded and covered by a test.
		panic(fmt.Sprintf("embedded default topology is invalid: %v", err))
	}
	return t
}

// DefaultTopologyYAML returns the embedded default topology's source.
func DefaultTopologyYAML() []byte {
	return bytes.Clone(defaultTopologyYAML)
}

// LoadTopology reads and validates a topology file.
func LoadTopology(path string) (Topology, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Topology{}, fmt.Errorf("read topology: %w", err)
	}
	t, err := ParseTopology(data)
	if err != nil {
		return Topology{}, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// ParseTopology decodes YAML strictly (unknown fields are errors) and
// validates the result.
func ParseTopology(data []byte) (Topology, error) {
	var t Topology
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&t); err != nil {
		if errors.Is(err, io.EOF) {
			return Topology{}, errors.New("topology: empty document; expected at least region, vpc and vswitches")
		}
		return Topology{}, fmt.Errorf("topology: %s", oneLine(err.Error()))
	}
	if err := t.Validate(); err != nil {
		return Topology{}, err
	}
	return t, nil
}

// Validate checks the topology and returns the first problem as a one-line
// error naming the field, the value and what is expected.
func (t Topology) Validate() error {
	_, err := compile(t)
	return err
}

// AllVPCs returns the VPCs of the topology, whether given as vpc or vpcs.
func (t Topology) AllVPCs() []VPCSpec {
	out := make([]VPCSpec, 0, len(t.VPCs)+1)
	if t.VPC != nil {
		out = append(out, *t.VPC)
	}
	return append(out, t.VPCs...)
}

func oneLine(s string) string {
	return string(bytes.ReplaceAll([]byte(s), []byte("\n"), []byte("; ")))
}
