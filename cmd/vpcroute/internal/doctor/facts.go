package doctor

import (
	"net/netip"
	"time"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/hostcfg"
	"github.com/vpcroute/vpcroute/reconciler/status"
)

// Facts is everything the checks look at. Gather reads it from the host,
// the cloud, the registry and the local daemon without changing anything;
// tests write it by hand. An Err field set means that fact could not be
// read, and the checks that need it say so.
type Facts struct {
	// Cluster is the cluster name: the ownership mark of routes and the
	// iptables tag "vpcroute:<Cluster>".
	Cluster     string
	ClusterCIDR netip.Prefix
	// HostConfig is --host-config: false when another tool owns ip_forward
	// and iptables, so vpcroute's own chains are not expected.
	HostConfig bool
	// RouteQuota is the per-table limit to compare with; 0 means the
	// provider's default (Cloud.Limit).
	RouteQuota int

	Docker DockerFacts
	// DockerConfig is Docker's daemon.json as read (--docker-config).
	DockerConfig DockerConfigFacts
	Subnets      SubnetFacts
	Cloud        CloudFacts
	Others       OtherHosts
	Host         HostFacts
	Peer         PeerFacts
	Daemon       DaemonFacts
}

// DockerFacts is what the Docker daemon answered.
type DockerFacts struct {
	// Asked is false when the subnets were given with --subnet: Docker is
	// then not part of the picture.
	Asked bool
	// Addr is the daemon address used.
	Addr       string
	APIVersion string
	Err        string
}

// DockerConfigFacts is what Docker's daemon.json sets.
type DockerConfigFacts struct {
	// Path is the file read; empty when not asked.
	Path string
	// BIP is the bip it sets (vpcroute allocate writes it); invalid when
	// it sets none.
	BIP netip.Prefix
	// Err is why it could not be read.
	Err string
}

// Subnet sources.
const (
	SourceDocker = "docker"
	SourceFlag   = "--subnet"
)

// SubnetFacts are this host's container subnets.
type SubnetFacts struct {
	// Local are the subnets, sorted.
	Local []netip.Prefix
	// Source is SourceDocker or SourceFlag.
	Source string
	// Err is the discovery error (a --network that does not exist, ...).
	Err string
}

// CloudFacts is what the provider answered.
type CloudFacts struct {
	// Provider is the provider's name ("aliyun", "aws").
	Provider string
	// Limit is the provider's per-table route limit and AccessFix what to
	// check when it cannot be read, from its registry record.
	Limit     cloud.RouteLimit
	AccessFix string
	// Err is set when this host's identity or its VPC could not be read.
	Err     string
	Self    cloud.Instance
	Network cloud.Network
	// Tables are the managed tables' entries; TableErrs the tables that
	// could not be listed.
	Tables    map[string][]cloud.Route
	TableErrs map[string]string
	// SourceDest is the state of the instance's source/destination check,
	// for providers that have one (nil otherwise).
	SourceDest *SourceDestFacts
}

// SourceDestFacts is the source/destination check of this host's network
// interface (EC2): with it on, the cloud drops every forwarded packet.
type SourceDestFacts struct {
	Interface string
	On        bool
	Err       string
}

// Other hosts' subnet sources.
const (
	OthersRegistry = "registry"
	OthersTables   = "route tables"
)

// OtherHosts are the subnets the cluster's other hosts claim.
type OtherHosts struct {
	// Known is false when neither the registry nor the tables were read.
	Known bool
	// Source is OthersRegistry (--etcd-endpoints) or OthersTables (owned
	// entries pointing elsewhere).
	Source string
	Claims []Claim
	// RegistryErr is set when the registry was asked and failed; Claims
	// then come from the tables.
	RegistryErr string
}

// Claim is one subnet another host claims.
type Claim struct {
	Instance string       `json:"instance"`
	Target   cloud.Target `json:"target"`
	Subnet   netip.Prefix `json:"subnet"`
}

// Sysctl is one sysctl's value, or why it could not be read.
type Sysctl struct {
	Name  string
	Value string
	Err   string
}

// Iface is a network interface and the sysctls that matter for it.
type Iface struct {
	Name       string
	Forwarding Sysctl
	RPFilter   Sysctl
}

// ReturnRoute is where the route back to a remote source leaves this host:
// strict reverse-path filtering drops packets that arrive elsewhere.
type ReturnRoute struct {
	Source netip.Addr
	Iface  string
	Err    string
}

// HostFacts are this host's kernel settings and iptables.
type HostFacts struct {
	IPForward Sysctl
	// Uplink is the interface of the default route; UplinkErr says why it
	// is unknown.
	Uplink    Iface
	UplinkErr string
	// RPFilterAll is net.ipv4.conf.all.rp_filter; the kernel uses the
	// larger of it and the interface's own value.
	RPFilterAll Sysctl
	// Bridges maps each local subnet to the interface holding an address
	// in it (absent when none does); BridgesErr says why they are unknown.
	Bridges    map[netip.Prefix]Iface
	BridgesErr string
	// ReturnRoutes are the route lookups for sample remote sources.
	ReturnRoutes []ReturnRoute
	// Filter holds filter FORWARD, DOCKER-USER and VPCROUTE-FORWARD; NAT
	// holds nat POSTROUTING and VPCROUTE-POSTROUTING.
	Filter    map[string]hostcfg.ChainRules
	FilterErr string
	NAT       map[string]hostcfg.ChainRules
	NATErr    string
}

// PeerFacts is the --peer to check, if any.
type PeerFacts struct {
	Given bool
	Peer  Peer
}

// DaemonFacts is the local daemon's /status, or why there is none.
type DaemonFacts struct {
	// Addr is --status-addr.
	Addr string
	// Absent is true when nothing listens there (no daemon runs).
	Absent bool
	Err    string
	Doc    *status.Document
	// Resync is the daemons' --resync-interval: a last pass older than
	// three of them means the leader is stuck or gone.
	Resync time.Duration
}
