package main

import (
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/reconciler/status"
)

// Groups of the flags several commands share, in the order `vpcroute
// options` lists them. A flag's group is its annotation groupKey.
const (
	groupGeneral  = "General"
	groupCluster  = "Cluster"
	groupCloud    = "Cloud"
	groupSubnets  = "Local subnets"
	groupRouting  = "Routing"
	groupHost     = "Host configuration"
	groupRegistry = "Registry"
	groupStatus   = "Daemon status"
)

// flagGroups is every group, in display order.
var flagGroups = []string{groupGeneral, groupCluster, groupCloud, groupSubnets, groupRouting, groupHost, groupRegistry, groupStatus}

// groupKey annotates a shared flag with its group; a command's own flags
// have none.
const groupKey = "vpcroute_group"

// newOptions returns the options at their defaults and the catalog of
// shared flags bound to them, for the providers vpcroute is built with.
func newOptions() (*options, *pflag.FlagSet) { return newOptionsWith(providers()) }

// newOptionsWith is newOptions for the providers of reg. Commands take
// their shared flags from the catalog, so that every default is set once,
// here, whichever commands register which flags.
func newOptionsWith(reg *cloud.Registry) (*options, *pflag.FlagSet) {
	o := &options{registry: reg, constructors: map[string]cloud.Constructor{}}
	fs := pflag.NewFlagSet("vpcroute", pflag.ContinueOnError)
	o.addSharedFlags(fs)
	return o, fs
}

// addSharedFlags registers every flag more than one command takes, each
// annotated with its group.
func (o *options) addSharedFlags(fs *pflag.FlagSet) {
	group := func(name string, add func()) {
		add()
		fs.VisitAll(func(f *pflag.Flag) {
			if f.Annotations[groupKey] == nil {
				_ = fs.SetAnnotation(f.Name, groupKey, []string{name}) // the flag exists
			}
		})
	}
	group(groupGeneral, func() {
		fs.StringVar(&o.Config, "config", DefaultConfigPath, "YAML config file; keys are flag names")
		fs.DurationVar(&o.Timeout, "timeout", 5*time.Minute, "give up after this long (doctor: each source it reads, 30s unless given)")
		fs.StringVar(&o.LogLevel, "log-level", "info", "log level: debug, info, warn, error")
		fs.StringVar(&o.LogFormat, "log-format", "console", "log format: console or json")
	})
	group(groupCluster, func() {
		fs.StringVar(&o.ClusterCIDR, "cluster-cidr", "", "CIDR holding every host's container subnets (required), e.g. 10.0.0.0/8")
		fs.StringVar(&o.ClusterName, "cluster-name", "default", "cluster name written into every route vpcroute owns")
	})
	group(groupCloud, func() { o.addCloudFlags(fs) })
	group(groupSubnets, func() {
		fs.StringVar(&o.DockerHost, "docker-host", "", "Docker API address (default: DOCKER_HOST or the local socket)")
		fs.StringArrayVar(&o.Networks, "network", nil, "also route this Docker bridge network, repeatable")
		fs.StringArrayVar(&o.Subnets, "subnet", nil, "route this local subnet instead of asking Docker, repeatable")
	})
	group(groupRouting, func() {
		fs.StringVar(&o.Policy, "policy", "sync", "route policy: sync (create and delete own stale routes) or upsert-only")
		fs.BoolVar(&o.AllowCarveOut, "allow-carve-out", false, "create a host's route even inside a broader route vpcroute does not own (a VPN or peering range), taking that part of its traffic")
	})
	group(groupHost, func() {
		fs.BoolVar(&o.HostConfig, "host-config", true, "configure this host (ip_forward, iptables); false where another tool owns them")
		fs.StringVar(&o.ForwardPolicy, "forward-policy", "keep", "iptables FORWARD policy: keep (narrow ACCEPT rules only) or accept (the blunt fix)")
		fs.StringVar(&o.StateDir, "state-dir", "/run/vpcroute", "where vpcroute notes what it changed on this host")
		fs.StringVar(&o.ProcSys, "proc-sys", "/proc/sys", "sysctl tree (for tests)")
		_ = fs.MarkHidden("proc-sys")
	})
	group(groupRegistry, func() { o.addRegistryFlags(fs) })
	group(groupStatus, func() {
		fs.StringVar(&o.StatusAddr, "status-addr", status.DefaultAddr, "address of the daemon's /status, /metrics, /healthz and /readyz (loopback unless told otherwise)")
	})
}

func (o *options) addCloudFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Provider, "provider", defaultProvider, "cloud provider: "+o.registry.Choices())
	fs.StringVar(&o.Endpoint, "endpoint", "", "one URL for all of the provider's APIs (simulator or private endpoint); default: the provider's regional HTTPS endpoint")
	fs.StringVar(&o.MetadataEndpoint, "metadata-endpoint", "", "instance metadata base URL (default: the provider's metadata service)")
	fs.StringVar(&o.Region, "region", "", "region (default: from metadata)")
	fs.StringVar(&o.InstanceID, "instance-id", "", "this host's instance ID (default: from metadata)")
	fs.StringVar(&o.VPCID, "vpc-id", "", "the VPC's ID (default: from metadata)")
	fs.StringVar(&o.PrivateIP, "private-ip", "", "this host's private IPv4 address (default: from metadata; aws without metadata: DescribeInstances of --instance-id)")
	fs.StringArrayVar(&o.VPCCIDRs, "vpc-cidr", nil, "the VPC's CIDR, repeatable (default: read from the cloud)")
	fs.StringArrayVar(&o.RouteTables, "route-table", nil, "manage only this route table, repeatable (default: every route table of the VPC)")
	fs.DurationVar(&o.CloudRetryTimeout, "cloud-retry-timeout", 3*time.Minute, "how long one cloud API call is retried (throttling, conflicts, 5xx, transport errors) before it fails")
	// Each provider's own settings (their usage names the provider).
	for _, s := range o.registry.Specs() {
		o.constructors[s.Name] = s.Flags(fs)
	}
}

func (o *options) addRegistryFlags(fs *pflag.FlagSet) {
	fs.StringSliceVar(&o.EtcdEndpoints, "etcd-endpoints", nil, "etcd endpoints of the registry, comma-separated (e.g. https://10.0.0.5:2379); empty: each daemon keeps only its own routes")
	fs.StringVar(&o.EtcdCert, "etcd-cert-file", "", "client certificate for etcd (TLS)")
	fs.StringVar(&o.EtcdKey, "etcd-key-file", "", "client key for etcd (TLS)")
	fs.StringVar(&o.EtcdCA, "etcd-ca-file", "", "CA bundle that signed etcd's server certificate")
	fs.StringVar(&o.EtcdUsername, "etcd-username", "", "etcd user (auth)")
	fs.StringVar(&o.EtcdPassword, "etcd-password", "", "etcd password (deprecated on the command line: use VPCROUTE_ETCD_PASSWORD, the config file or --etcd-password-file)")
	fs.StringVar(&o.EtcdPasswordFile, "etcd-password-file", "", "file holding the etcd password (one line)")
	fs.BoolVar(&o.EtcdAllowInsecure, "etcd-allow-insecure-credentials", false, "send etcd-username and its password to http:// endpoints in clear text (trusted networks only)")
	_ = fs.MarkDeprecated("etcd-password", etcdPasswordDeprecation)
}

// flagGroup returns a shared flag's group, "" for a command's own flag.
func flagGroup(f *pflag.Flag) string {
	if g := f.Annotations[groupKey]; len(g) == 1 {
		return g[0]
	}
	return ""
}

// addShared gives cmd the shared flags of the groups, and the single
// shared flags named in only. A command gets only what it reads: a flag
// it would ignore is an unknown flag there, not a silent no-op.
func addShared(cmd *cobra.Command, shared *pflag.FlagSet, groups []string, only ...string) {
	want := map[string]bool{}
	for _, g := range groups {
		want[g] = true
	}
	for _, n := range only {
		want["flag:"+n] = true
	}
	shared.VisitAll(func(f *pflag.Flag) {
		if want[flagGroup(f)] || want["flag:"+f.Name] {
			cmd.Flags().AddFlag(f)
		}
	})
}

// enumCompletions are the values shell completion offers for the flags
// that take one of a few words; --provider's are the registry's.
var enumCompletions = map[string][]string{
	"log-level":      {"debug", "info", "warn", "error"},
	"log-format":     {"console", "json"},
	"policy":         {"sync", "upsert-only"},
	"forward-policy": {"keep", "accept"},
	"output":         {"text", "json"},
}

// registerCompletions offers enumCompletions, and the registered
// providers, for every such flag of every command under c.
func registerCompletions(c *cobra.Command, reg *cloud.Registry) {
	c.Flags().VisitAll(func(f *pflag.Flag) {
		words, ok := enumCompletions[f.Name]
		if f.Name == "provider" {
			words, ok = reg.Names(), true
		}
		if ok {
			_ = c.RegisterFlagCompletionFunc(f.Name, cobra.FixedCompletions(words, cobra.ShellCompDirectiveNoFileComp))
		}
	})
	for _, sub := range c.Commands() {
		registerCompletions(sub, reg)
	}
}
