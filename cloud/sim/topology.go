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

	"github.com/vpcroute/vpcroute/internal/textline"
)

// Topology is the simulated world: one cloud (Provider), one region, its
// VPCs, vswitches (subnets), route tables, instances, the accepted
// credentials and the behaviour knobs. It is read from YAML (see
// LoadTopology) or built in Go.
type Topology struct {
	// Provider is the cloud the world speaks: ProviderAliyun (default: the
	// VPC/ECS RPC APIs and ECS metadata) or ProviderAWS (the EC2 Query API
	// and IMDSv2).
	Provider string `yaml:"provider,omitempty" json:"provider,omitempty"`
	// AccountID is the AWS account owning every resource (ownerId);
	// default DefaultAccountID. AWS only.
	AccountID string `yaml:"accountId,omitempty" json:"accountId,omitempty"`
	// Region is the region ID every request must name (RegionId on
	// Alibaba, the SigV4 credential scope on AWS).
	Region string `yaml:"region" json:"region"`
	// VPC is a shorthand for a single-VPC topology; VPCs lists several.
	VPC  *VPCSpec  `yaml:"vpc,omitempty" json:"vpc,omitempty"`
	VPCs []VPCSpec `yaml:"vpcs,omitempty" json:"vpcs,omitempty"`
	// VSwitches are the subnets of the VPCs; Subnets is the same list under
	// its AWS name (give one of the two).
	VSwitches []VSwitchSpec `yaml:"vswitches,omitempty" json:"vswitches,omitempty"`
	Subnets   []VSwitchSpec `yaml:"subnets,omitempty" json:"subnets,omitempty"`
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
	// Tags are the VPC's tags (AWS only).
	Tags map[string]string `yaml:"tags,omitempty" json:"tags,omitempty"`
}

// VSwitchSpec describes one vswitch (an AWS subnet).
type VSwitchSpec struct {
	ID   string `yaml:"id" json:"id"`
	CIDR string `yaml:"cidr" json:"cidr"`
	// Zone defaults to "<region>-a".
	Zone string `yaml:"zone,omitempty" json:"zone,omitempty"`
	// VPC may be omitted when the topology has a single VPC.
	VPC  string `yaml:"vpc,omitempty" json:"vpc,omitempty"`
	Name string `yaml:"name,omitempty" json:"name,omitempty"`
	// Tags are the subnet's tags (AWS only).
	Tags map[string]string `yaml:"tags,omitempty" json:"tags,omitempty"`
}

// RouteTableSpec describes one route table and the custom entries it starts
// with. System entries are added automatically: on Alibaba one per vswitch
// CIDR and 100.64.0.0/10 (the cloud service range), on AWS the "local"
// route of every VPC CIDR.
type RouteTableSpec struct {
	ID string `yaml:"id" json:"id"`
	// Type is System (the VPC's default table, one per VPC; the main route
	// table on AWS) or Custom. Main: true is the same as type System.
	Type string `yaml:"type,omitempty" json:"type,omitempty"`
	Main bool   `yaml:"main,omitempty" json:"main,omitempty"`
	VPC  string `yaml:"vpc,omitempty" json:"vpc,omitempty"`
	Name string `yaml:"name,omitempty" json:"name,omitempty"`
	// VSwitches (Subnets, the AWS name; give one of the two) bound to this
	// table; the System table gets every vswitch no Custom table claims.
	VSwitches []string `yaml:"vswitches,omitempty" json:"vswitches,omitempty"`
	Subnets   []string `yaml:"subnets,omitempty" json:"subnets,omitempty"`
	// Tags are the table's tags (AWS only).
	Tags   map[string]string `yaml:"tags,omitempty" json:"tags,omitempty"`
	Routes []RouteSpec       `yaml:"routes,omitempty" json:"routes,omitempty"`
}

// RouteSpec is a custom route entry present from the start (Available on
// Alibaba, active on AWS).
type RouteSpec struct {
	// Destination is the destination CIDR. On AWS a route may instead name
	// a prefix list (DestinationPrefixListID, e.g. a gateway endpoint's).
	Destination             string `yaml:"destination,omitempty" json:"destination,omitempty"`
	DestinationPrefixListID string `yaml:"destinationPrefixListId,omitempty" json:"destinationPrefixListId,omitempty"`
	// NextHopType on AWS is one of Gateway, NatGateway, NetworkInterface,
	// Instance, VpcPeering, TransitGateway, VpcEndpoint,
	// EgressOnlyInternetGateway, LocalGateway, CarrierGateway, CoreNetwork.
	NextHopType string `yaml:"nextHopType" json:"nextHopType"`
	NextHopID   string `yaml:"nextHopId" json:"nextHopId"`
	Name        string `yaml:"name,omitempty" json:"name,omitempty"`
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	// State is active (default) or blackhole, for AWS routes whose target
	// is not an ENI or instance (those derive their state from the target).
	State string `yaml:"state,omitempty" json:"state,omitempty"`
}

// InstanceSpec describes one ECS or EC2 instance.
type InstanceSpec struct {
	ID        string `yaml:"id" json:"id"`
	PrivateIP string `yaml:"privateIp" json:"privateIp"`
	// VSwitch (Subnet, the AWS name; give one of the two) may be omitted
	// when the topology has a single vswitch.
	VSwitch string `yaml:"vswitch,omitempty" json:"vswitch,omitempty"`
	Subnet  string `yaml:"subnet,omitempty" json:"subnet,omitempty"`
	// RAMRole (IAMRole on AWS; give one of the two) is the instance role
	// served by the metadata service.
	RAMRole string `yaml:"ramRole,omitempty" json:"ramRole,omitempty"`
	IAMRole string `yaml:"iamRole,omitempty" json:"iamRole,omitempty"`
	// Status is Running (default) or Stopped on Alibaba; on AWS one of
	// pending, running (default), stopping, stopped, shutting-down,
	// terminated.
	Status string `yaml:"status,omitempty" json:"status,omitempty"`
	// MAC (of the primary ENI on AWS) defaults to one derived from the
	// instance ID.
	MAC  string `yaml:"mac,omitempty" json:"mac,omitempty"`
	Name string `yaml:"name,omitempty" json:"name,omitempty"`

	// The fields below are AWS only.

	// ENI is the primary network interface's ID (device index 0); default
	// one derived from the instance ID.
	ENI string `yaml:"eni,omitempty" json:"eni,omitempty"`
	// SourceDestCheck of the primary ENI; default true, as EC2 launches.
	SourceDestCheck *bool `yaml:"sourceDestCheck,omitempty" json:"sourceDestCheck,omitempty"`
	// InstanceType defaults to t3.micro.
	InstanceType string `yaml:"instanceType,omitempty" json:"instanceType,omitempty"`
	// Tags are the instance's tags; Name defaults to the name field.
	Tags map[string]string `yaml:"tags,omitempty" json:"tags,omitempty"`
	// NetworkInterfaces are further ENIs attached at device index 1, 2, ...
	// An instance with more than one ENI cannot be a route's InstanceId.
	NetworkInterfaces []ENISpec `yaml:"networkInterfaces,omitempty" json:"networkInterfaces,omitempty"`
}

// ENISpec is a secondary network interface of an AWS instance.
type ENISpec struct {
	ID        string `yaml:"id" json:"id"`
	PrivateIP string `yaml:"privateIp" json:"privateIp"`
	// Subnet defaults to the instance's.
	Subnet string `yaml:"subnet,omitempty" json:"subnet,omitempty"`
	MAC    string `yaml:"mac,omitempty" json:"mac,omitempty"`
	// DeleteOnTermination defaults to true (an ENI attached at launch).
	DeleteOnTermination *bool `yaml:"deleteOnTermination,omitempty" json:"deleteOnTermination,omitempty"`
	// SourceDestCheck defaults to true.
	SourceDestCheck *bool             `yaml:"sourceDestCheck,omitempty" json:"sourceDestCheck,omitempty"`
	Description     string            `yaml:"description,omitempty" json:"description,omitempty"`
	Tags            map[string]string `yaml:"tags,omitempty" json:"tags,omitempty"`
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
	// Quota is the number of custom entries per route table; 0 means 200
	// on Alibaba and 50 (EC2's routes per table) on AWS.
	Quota int `yaml:"quota,omitempty" json:"quota,omitempty"`
	// ConflictCode answers a change in a busy VPC: IncorrectRouteEntryStatus
	// (default), TaskConflict, OperationConflict, or "alternate" to cycle
	// through the three.
	ConflictCode string `yaml:"conflictCode,omitempty" json:"conflictCode,omitempty"`
	// Latency is added to every RPC call.
	Latency time.Duration `yaml:"latency,omitempty" json:"latency,omitempty"`
	// Throttle limits calls per class; zero capacity means no limit. On
	// AWS reads are the non-mutating (Describe*) calls and writes the
	// mutating ones; the AWS default topology sets EC2's buckets
	// (EC2DescribeBucket, EC2MutatingBucket).
	Throttle ThrottleSpec `yaml:"throttle,omitempty" json:"throttle"`
	// Signature is "verify" (default: HMAC-SHA1 as the Alibaba SDK signs,
	// SigV4 on AWS) or "ignore".
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
	DefaultAWSQuota     = 50
	DefaultSTSLifetime  = 6 * time.Hour
)

// The clouds a world can speak.
const (
	ProviderAliyun = "aliyun"
	ProviderAWS    = "aws"
)

// DefaultAccountID is the AWS account of an AWS world without accountId.
const DefaultAccountID = "123456789012"

// EC2's token buckets: mutating calls share 50 tokens refilled at 5/s,
// non-mutating (Describe*) calls 100 refilled at 20/s.
var (
	EC2MutatingBucket = BucketSpec{Capacity: 50, RefillPerSecond: 5}
	EC2DescribeBucket = BucketSpec{Capacity: 100, RefillPerSecond: 20}
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

//go:embed default_aws_topology.yaml
var defaultAWSTopologyYAML []byte

// DefaultAWSTopology returns the lab's world on AWS: VPC 192.168.0.0/16
// with a second CIDR 172.20.0.0/16, one subnet 192.168.1.0/24, instances
// i-0aaaaaaaaaaaaaaaa (192.168.1.196, eni-0aaaaaaaaaaaaaaaa) and
// i-0bbbbbbbbbbbbbbbb (192.168.1.197, eni-0bbbbbbbbbbbbbbbb) with IAM role
// vpcroute-node, one main route table tagged vpcroute:cluster=lab holding
// three routes vpcroute does not own (0.0.0.0/0 to an internet gateway,
// 172.16.0.0/16 to a peering connection, and a gateway endpoint's prefix
// list route without a destination CIDR), EC2's token buckets, and the
// access key AKIASIMULATOR0000001 / sim-aws-secret.
func DefaultAWSTopology() Topology {
	t, err := ParseTopology(defaultAWSTopologyYAML)
	if err != nil {
		panic(fmt.Sprintf("embedded default AWS topology is invalid: %v", err))
	}
	return t
}

// DefaultAWSTopologyYAML returns the embedded default AWS topology's source.
func DefaultAWSTopologyYAML() []byte {
	return bytes.Clone(defaultAWSTopologyYAML)
}

// DefaultTopologyFor returns the default topology of a provider.
func DefaultTopologyFor(provider string) (Topology, error) {
	d, ok := dialectFor(provider)
	if !ok {
		return Topology{}, paramError("provider", provider, dialectNames(false))
	}
	return d.defaultTopology(), nil
}

// AllVSwitches returns the vswitches of the topology, whether given as
// vswitches or subnets.
func (t Topology) AllVSwitches() []VSwitchSpec {
	return append(append([]VSwitchSpec{}, t.VSwitches...), t.Subnets...)
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
		return Topology{}, fmt.Errorf("topology: %s", textline.Join(err.Error(), "; "))
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
