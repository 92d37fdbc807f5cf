package main

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/vpcroute/vpcroute/cloud/sim"
)

// options are the flags of vpcroute-sim. Overrides apply only when their
// flag was given, so the topology's behaviour stays the default.
type options struct {
	Listen          []string
	MetadataListen  []string
	Topology        string
	TopologyDefault string
	DataplaneNetns  string
	PendingDelay    time.Duration
	Latency         time.Duration
	Quota           int
	ConflictCode    string
	Signature       string
	LogLevel        string
	LogFormat       string
	PrintTopology   bool

	changed func(name string) bool
}

func defaultOptions() *options {
	return &options{Listen: []string{"127.0.0.1:0"}, TopologyDefault: sim.ProviderAliyun, LogLevel: "info", LogFormat: "console",
		changed: func(string) bool { return false }}
}

func (o *options) bind(fs *pflag.FlagSet) {
	fs.StringArrayVar(&o.Listen, "listen", o.Listen, "address to serve on, HOST:PORT or unix:/path/to.sock (repeatable)")
	fs.StringVar(&o.Topology, "topology", o.Topology, "topology YAML file (default: the embedded two-host lab of --topology-default)")
	fs.StringVar(&o.TopologyDefault, "topology-default", o.TopologyDefault,
		"the embedded two-host lab to serve without --topology: aliyun (VPC/ECS APIs, ECS metadata) or aws (EC2 Query API, IMDSv2)")
	fs.StringArrayVar(&o.MetadataListen, "metadata-listen", o.MetadataListen,
		"INSTANCE=HOST:PORT (or INSTANCE=unix:/path): serve only that instance's metadata at /latest/... there, for clients "+
			"such as aws-sdk-go-v2's imds that cannot use the /sim/v1/instances/<id> prefix (repeatable)")
	fs.StringVar(&o.DataplaneNetns, "dataplane-netns", o.DataplaneNetns,
		`network namespace whose kernel routes follow the route tables ("self" for the simulator's own; default: off)`)
	fs.DurationVar(&o.PendingDelay, "pending-delay", o.PendingDelay, "how long route changes stay Pending/Deleting (overrides the topology)")
	fs.DurationVar(&o.Latency, "latency", o.Latency, "delay added to every API call (overrides the topology)")
	fs.IntVar(&o.Quota, "quota", o.Quota, "custom route entries (EC2 routes) per table (overrides the topology)")
	fs.StringVar(&o.ConflictCode, "conflict-code", o.ConflictCode,
		"answer to a change in a busy VPC: IncorrectRouteEntryStatus, TaskConflict, OperationConflict or alternate (overrides the topology)")
	fs.StringVar(&o.Signature, "signature", o.Signature, "verify or ignore request signatures, HMAC-SHA1 or SigV4 (overrides the topology)")
	fs.StringVar(&o.LogLevel, "log-level", o.LogLevel, "debug, info, warn or error")
	fs.StringVar(&o.LogFormat, "log-format", o.LogFormat, "console or json")
	fs.BoolVar(&o.PrintTopology, "print-topology", o.PrintTopology, "print the default topology YAML (of --topology-default) and exit")
	o.changed = func(name string) bool { return fs.Changed(name) }
}

// Validate checks the flags that need no I/O; the topology and the
// listeners are checked when they are opened.
func (o *options) Validate() error {
	if len(o.Listen) == 0 {
		return flagError("listen", "", "at least one HOST:PORT or unix:/path/to.sock")
	}
	for _, l := range o.Listen {
		if !strings.HasPrefix(l, "unix:") && !strings.Contains(l, ":") {
			return flagError("listen", l, "HOST:PORT (such as 127.0.0.1:0) or unix:/path/to.sock")
		}
	}
	if o.TopologyDefault != sim.ProviderAliyun && o.TopologyDefault != sim.ProviderAWS {
		return flagError("topology-default", o.TopologyDefault, "aliyun or aws")
	}
	if o.Topology != "" && o.changed("topology-default") {
		return flagError("topology-default", o.TopologyDefault, "no --topology-default with --topology (the file names its provider)")
	}
	seen := map[string]bool{}
	for _, m := range o.MetadataListen {
		id, addr, ok := strings.Cut(m, "=")
		if !ok || id == "" || (!strings.HasPrefix(addr, "unix:") && !strings.Contains(addr, ":")) {
			return flagError("metadata-listen", m, "INSTANCE=HOST:PORT such as i-0aaaaaaaaaaaaaaaa=127.0.0.1:0, or INSTANCE=unix:/path/to.sock")
		}
		if seen[id] {
			return flagError("metadata-listen", m, "one listener per instance")
		}
		seen[id] = true
	}
	if o.changed("pending-delay") && o.PendingDelay < 0 {
		return flagError("pending-delay", o.PendingDelay.String(), "a duration of 0 or more, such as 200ms")
	}
	if o.changed("latency") && o.Latency < 0 {
		return flagError("latency", o.Latency.String(), "a duration of 0 or more")
	}
	if o.changed("quota") && o.Quota < 1 {
		return flagError("quota", fmt.Sprint(o.Quota), "a positive number of entries")
	}
	if o.changed("conflict-code") && !slices.Contains([]string{"IncorrectRouteEntryStatus", "TaskConflict", "OperationConflict", sim.ConflictAlternate}, o.ConflictCode) {
		return flagError("conflict-code", o.ConflictCode, "IncorrectRouteEntryStatus, TaskConflict, OperationConflict or alternate")
	}
	if o.changed("signature") && o.Signature != "verify" && o.Signature != "ignore" {
		return flagError("signature", o.Signature, "verify or ignore")
	}
	if _, err := zapcore.ParseLevel(o.LogLevel); err != nil {
		return flagError("log-level", o.LogLevel, "debug, info, warn or error")
	}
	if o.LogFormat != "console" && o.LogFormat != "json" {
		return flagError("log-format", o.LogFormat, "console or json")
	}
	return nil
}

func flagError(name, value, expected string) error {
	return fmt.Errorf("--%s=%q: expected %s", name, value, expected)
}

// topology loads the topology file, or the embedded default.
func (o *options) topology() (sim.Topology, error) {
	if o.Topology == "" {
		return sim.DefaultTopologyFor(o.TopologyDefault)
	}
	return sim.LoadTopology(o.Topology)
}

// defaultTopologyYAML is the source of the selected embedded topology.
func (o *options) defaultTopologyYAML() []byte {
	if o.TopologyDefault == sim.ProviderAWS {
		return sim.DefaultAWSTopologyYAML()
	}
	return sim.DefaultTopologyYAML()
}

// metadataListeners splits --metadata-listen into instance and address, in
// order. Validate has checked the syntax.
func (o *options) metadataListeners() [][2]string {
	out := make([][2]string, 0, len(o.MetadataListen))
	for _, m := range o.MetadataListen {
		id, addr, _ := strings.Cut(m, "=")
		out = append(out, [2]string{id, addr})
	}
	return out
}

// simOptions turns the given flags into simulator options.
func (o *options) simOptions(log *zap.Logger) []sim.Option {
	opts := []sim.Option{sim.WithLogger(log)}
	if o.DataplaneNetns != "" {
		opts = append(opts, sim.WithDataplane(o.DataplaneNetns))
	}
	if o.changed("pending-delay") {
		opts = append(opts, sim.WithPendingDelay(o.PendingDelay))
	}
	opts = append(opts, sim.WithBehaviour(func(b *sim.Behaviour) {
		if o.changed("latency") {
			b.Latency = o.Latency
		}
		if o.changed("quota") {
			b.Quota = o.Quota
		}
		if o.changed("conflict-code") {
			b.ConflictCode = o.ConflictCode
		}
		if o.changed("signature") {
			b.Signature = o.Signature
		}
	}))
	return opts
}

// logger builds the zap logger writing to stderr; stdout carries only the
// "listening on" lines.
func (o *options) logger() (*zap.Logger, error) {
	level, err := zapcore.ParseLevel(o.LogLevel)
	if err != nil {
		return nil, flagError("log-level", o.LogLevel, "debug, info, warn or error")
	}
	cfg := zap.NewProductionConfig()
	if o.LogFormat == "console" {
		cfg = zap.NewDevelopmentConfig()
		cfg.EncoderConfig.EncodeLevel = zapcore.CapitalLevelEncoder
	}
	cfg.Level = zap.NewAtomicLevelAt(level)
	cfg.OutputPaths, cfg.ErrorOutputPaths = []string{"stderr"}, []string{"stderr"}
	cfg.DisableStacktrace = true
	l, err := cfg.Build()
	if err != nil {
		return nil, fmt.Errorf("build logger: %w", err)
	}
	return l, nil
}
