package main

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/reconciler"
)

// options holds every setting of the vpcroute commands. Each one is a flag
// of the commands that read it, a VPCROUTE_* environment variable and a key
// of the config file. newOptions sets the defaults.
type options struct {
	Config           string
	Provider         string
	Endpoint         string
	MetadataEndpoint string
	Region           string
	InstanceID       string
	VPCID            string
	// PrivateIP is aws only: this host's address when metadata cannot
	// say it.
	PrivateIP         string
	VPCCIDRs          []string
	ClusterCIDR       string
	ClusterName       string
	RouteTables       []string
	DockerHost        string
	Networks          []string
	Subnets           []string
	ForwardPolicy     string
	HostConfig        bool
	Policy            string
	AllowCarveOut     bool
	Timeout           time.Duration
	CloudRetryTimeout time.Duration
	LogLevel          string
	LogFormat         string
	Remove            bool
	ProcSys           string
	StateDir          string
	CacheDir          string
	// DaemonDockerConfig is the daemon's --docker-config: the daemon.json
	// whose bip it compares with what Docker runs.
	DaemonDockerConfig string

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

	// registry is the providers --provider may name; constructors build
	// each, reading the provider's own flags (--ram-role, --mutating-rate,
	// ...), which its Spec.Flags bound when the flags were declared.
	registry     *cloud.Registry
	constructors map[string]cloud.Constructor
}

// parsed is options after validation, in the types the packages take.
type parsed struct {
	clusterCIDR netip.Prefix
	vpcCIDRs    []netip.Prefix
	subnets     []netip.Prefix
	privateIP   netip.Addr
	policy      reconciler.Policy
	forwardAll  bool
}

// validate checks every option and returns a one-line error naming the
// first bad one. It reads only --etcd-password-file and changes nothing.
func (o *options) validate() (parsed, error) {
	var p parsed
	var err error
	if err := o.registry.Check(o.Provider); err != nil {
		return p, err
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
	if o.PrivateIP != "" {
		if p.privateIP, err = netip.ParseAddr(o.PrivateIP); err != nil || !p.privateIP.Is4() {
			return p, fmt.Errorf("private-ip %q is invalid: expected this host's private IPv4 address, e.g. 192.168.1.10", o.PrivateIP)
		}
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
