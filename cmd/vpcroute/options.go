package main

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/spf13/pflag"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/reconciler"
	"github.com/vpcroute/vpcroute/reconciler/status"
)

// options holds every setting of the vpcroute commands. Each one is a flag,
// a VPCROUTE_* environment variable and a key of the config file.
type options struct {
	Config           string
	Provider         string
	Endpoint         string
	MetadataEndpoint string
	Region           string
	InstanceID       string
	VPCID            string
	VPCCIDRs         []string
	ClusterCIDR      string
	ClusterName      string
	RouteTables      []string
	RAMRole          string
	// AWS only.
	RouteTableTag      bool
	NetworkInterfaceID string
	MutatingRate       float64
	MutatingBurst      int
	DockerHost         string
	Networks           []string
	Subnets            []string
	ForwardPolicy      string
	HostConfig         bool
	Policy             string
	AllowCarveOut      bool
	Timeout            time.Duration
	CloudRetryTimeout  time.Duration
	LogLevel           string
	LogFormat          string
	Output             string
	Remove             bool
	ProcSys            string
	StateDir           string
	CacheDir           string

	// Registry (etcd) and status settings, shared by daemon, sync --remove
	// and status.
	EtcdEndpoints []string
	EtcdCert      string
	EtcdKey       string
	EtcdCA        string
	EtcdUsername  string
	// EtcdPassword comes from VPCROUTE_ETCD_PASSWORD, the config file or
	// the deprecated --etcd-password.
	EtcdPassword     string
	EtcdPasswordFile string
	// EtcdAllowInsecure lets credentials go to http:// endpoints.
	EtcdAllowInsecure bool
	StatusAddr        string
	// etcdPasswordFromFile is what validate read from EtcdPasswordFile.
	etcdPasswordFromFile string

	// Daemon timing.
	Resync          time.Duration
	Debounce        time.Duration
	HostCheck       time.Duration
	Heartbeat       time.Duration
	LeaseTTL        time.Duration
	SilentAfter     time.Duration
	AllowMassDelete bool
	// StuckAfter overrides how long a loop may go without progress,
	// "loop=duration" each.
	StuckAfter []string
}

// addGlobalFlags registers the flags every command shares.
func (o *options) addGlobalFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Config, "config", DefaultConfigPath, "YAML config file; keys are flag names")
	fs.StringVar(&o.Provider, "provider", "aliyun", "cloud provider: aliyun or aws")
	fs.StringVar(&o.Endpoint, "endpoint", "", "one URL for all of the provider's APIs (simulator or private endpoint); default: the provider's regional HTTPS endpoint")
	fs.StringVar(&o.MetadataEndpoint, "metadata-endpoint", "", "instance metadata base URL (default: the provider's metadata service)")
	fs.StringVar(&o.Region, "region", "", "region (default: from metadata)")
	fs.StringVar(&o.InstanceID, "instance-id", "", "this host's instance ID (default: from metadata)")
	fs.StringVar(&o.VPCID, "vpc-id", "", "the VPC's ID (default: from metadata)")
	fs.StringArrayVar(&o.VPCCIDRs, "vpc-cidr", nil, "the VPC's CIDR, repeatable (default: read from the cloud)")
	fs.StringVar(&o.ClusterCIDR, "cluster-cidr", "", "CIDR holding every host's container subnets (required), e.g. 10.0.0.0/8")
	fs.StringVar(&o.ClusterName, "cluster-name", "default", "cluster name written into every route vpcroute owns")
	fs.StringArrayVar(&o.RouteTables, "route-table", nil, "manage only this route table, repeatable (default: every route table of the VPC)")
	fs.StringVar(&o.RAMRole, "ram-role", "", "aliyun: RAM role of the instance (default: read from metadata when no access key is in the environment)")
	fs.BoolVar(&o.RouteTableTag, "route-table-tag", false, "aws: manage only the route tables tagged vpcroute:cluster=<cluster-name>")
	fs.StringVar(&o.NetworkInterfaceID, "network-interface-id", "", "aws: the ENI this host's routes target (default: the primary ENI, from metadata)")
	fs.Float64Var(&o.MutatingRate, "mutating-rate", 5, "aws: mutating EC2 calls per second, client-side (EC2's own bucket refills 5/s)")
	fs.IntVar(&o.MutatingBurst, "mutating-burst", 50, "aws: burst of mutating EC2 calls, client-side (EC2's own bucket holds 50)")
	fs.StringVar(&o.DockerHost, "docker-host", "", "Docker API address (default: DOCKER_HOST or the local socket)")
	fs.StringArrayVar(&o.Networks, "network", nil, "also route this Docker bridge network, repeatable")
	fs.StringArrayVar(&o.Subnets, "subnet", nil, "route this local subnet instead of asking Docker, repeatable")
	fs.StringVar(&o.ForwardPolicy, "forward-policy", "keep", "iptables FORWARD policy: keep (narrow ACCEPT rules only) or accept (the blunt fix)")
	fs.BoolVar(&o.HostConfig, "host-config", true, "configure this host (ip_forward, iptables); false where another tool owns them")
	fs.StringVar(&o.Policy, "policy", "sync", "route policy: sync (create and delete own stale routes) or upsert-only")
	fs.BoolVar(&o.AllowCarveOut, "allow-carve-out", false, "create a host's route even inside a broader route vpcroute does not own (a VPN or peering range), taking that part of its traffic")
	fs.DurationVar(&o.Timeout, "timeout", 5*time.Minute, "give up after this long")
	fs.DurationVar(&o.CloudRetryTimeout, "cloud-retry-timeout", 3*time.Minute, "how long one cloud API call is retried (throttling, conflicts, 5xx, transport errors) before it fails")
	fs.StringVar(&o.LogLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&o.LogFormat, "log-format", "console", "log format: console or json")
	fs.StringVar(&o.ProcSys, "proc-sys", "/proc/sys", "sysctl tree (for tests)")
	fs.StringVar(&o.StateDir, "state-dir", "/run/vpcroute", "where vpcroute notes what it changed on this host")
	fs.StringSliceVar(&o.EtcdEndpoints, "etcd-endpoints", nil, "etcd endpoints of the registry, comma-separated (e.g. https://10.0.0.5:2379); empty: each daemon keeps only its own routes")
	fs.StringVar(&o.EtcdCert, "etcd-cert-file", "", "client certificate for etcd (TLS)")
	fs.StringVar(&o.EtcdKey, "etcd-key-file", "", "client key for etcd (TLS)")
	fs.StringVar(&o.EtcdCA, "etcd-ca-file", "", "CA bundle that signed etcd's server certificate")
	fs.StringVar(&o.EtcdUsername, "etcd-username", "", "etcd user (auth)")
	fs.StringVar(&o.EtcdPassword, "etcd-password", "", "etcd password (deprecated on the command line: use VPCROUTE_ETCD_PASSWORD, the config file or --etcd-password-file)")
	fs.StringVar(&o.EtcdPasswordFile, "etcd-password-file", "", "file holding the etcd password (one line)")
	fs.BoolVar(&o.EtcdAllowInsecure, "etcd-allow-insecure-credentials", false, "send etcd-username and its password to http:// endpoints in clear text (trusted networks only)")
	fs.StringVar(&o.StatusAddr, "status-addr", status.DefaultAddr, "address of the daemon's /status, /metrics, /healthz and /readyz (loopback unless told otherwise)")
	_ = fs.MarkHidden("proc-sys")
	_ = fs.MarkDeprecated("etcd-password", etcdPasswordDeprecation)
}

// parsed is options after validation, in the types the packages take.
type parsed struct {
	clusterCIDR netip.Prefix
	vpcCIDRs    []netip.Prefix
	subnets     []netip.Prefix
	policy      reconciler.Policy
	forwardAll  bool
}

// validate checks every option and returns a one-line error naming the
// first bad one. It reads only --etcd-password-file and changes nothing.
func (o *options) validate() (parsed, error) {
	var p parsed
	var err error
	if o.Provider != "aliyun" && o.Provider != "aws" {
		return p, fmt.Errorf("provider %q is invalid: expected aliyun or aws", o.Provider)
	}
	if o.ClusterCIDR == "" {
		return p, fmt.Errorf("cluster-cidr is required: give the CIDR that holds every host's container subnets, e.g. --cluster-cidr 10.0.0.0/8")
	}
	if p.clusterCIDR, err = parseCIDR("cluster-cidr", o.ClusterCIDR); err != nil {
		return p, err
	}
	if err := cloud.ValidateClusterName(o.ClusterName); err != nil {
		return p, err
	}
	for _, s := range o.VPCCIDRs {
		v, err := parseCIDR("vpc-cidr", s)
		if err != nil {
			return p, err
		}
		p.vpcCIDRs = append(p.vpcCIDRs, v)
	}
	// Without --vpc-cidr the VPC's CIDRs are known only once the cloud has
	// been read: sync, plan and daemon check again then, before any write.
	if err := reconciler.ValidateClusterCIDR(p.clusterCIDR, p.vpcCIDRs); err != nil {
		return p, err
	}
	for _, s := range o.Subnets {
		v, err := parseCIDR("subnet", s)
		if err != nil {
			return p, err
		}
		p.subnets = append(p.subnets, v)
	}
	if p.policy, err = reconciler.PolicyByName(o.Policy); err != nil {
		return p, err
	}
	switch o.ForwardPolicy {
	case "keep":
	case "accept":
		p.forwardAll = true
	default:
		return p, fmt.Errorf("forward-policy %q is invalid: expected keep or accept", o.ForwardPolicy)
	}
	if o.Timeout <= 0 {
		return p, fmt.Errorf("timeout %s is invalid: expected a positive duration such as 5m", o.Timeout)
	}
	if o.CloudRetryTimeout <= 0 {
		return p, fmt.Errorf("cloud-retry-timeout %s is invalid: expected a positive duration such as 3m", o.CloudRetryTimeout)
	}
	switch o.LogFormat {
	case "console", "json":
	default:
		return p, fmt.Errorf("log-format %q is invalid: expected console or json", o.LogFormat)
	}
	if len(o.EtcdEndpoints) > 0 {
		if err := o.loadEtcdPassword(); err != nil {
			return p, err
		}
		if err := o.registryOptions().Validate(); err != nil {
			return p, err
		}
	}
	return p, nil
}

// parseCIDR parses an IPv4 CIDR with no host bits set.
func parseCIDR(field, s string) (netip.Prefix, error) {
	pfx, err := netip.ParsePrefix(s)
	if err != nil || !pfx.Addr().Is4() {
		return netip.Prefix{}, fmt.Errorf("%s %q is invalid: expected an IPv4 CIDR such as 10.0.0.0/8", field, s)
	}
	if pfx != pfx.Masked() {
		return netip.Prefix{}, fmt.Errorf("%s %q is invalid: host bits are set; expected %s", field, s, pfx.Masked())
	}
	return pfx, nil
}
