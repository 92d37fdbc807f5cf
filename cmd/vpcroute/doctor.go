package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/cmd/vpcroute/internal/doctor"
	"github.com/vpcroute/vpcroute/reconciler"
	"github.com/vpcroute/vpcroute/reconciler/registry"
	"github.com/vpcroute/vpcroute/reconciler/status"
)

// doctorTimeout bounds each source doctor reads (Docker, the cloud, the
// registry, the daemon) unless --timeout is given: an operator waiting for
// a diagnosis should not wait sync's five minutes.
const doctorTimeout = 30 * time.Second

// doctorFlags are the settings only doctor has.
type doctorFlags struct {
	output string
	peer   string
	quota  int
	// dockerConfig is Docker's daemon.json, whose bip is compared with
	// what Docker runs.
	dockerConfig string
}

func newDoctorCommand(o *options, shared *pflag.FlagSet) *cobra.Command {
	df := &doctorFlags{}
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check this host, its routes and its daemon, and say why containers on two hosts cannot talk",
		Long: `doctor checks, without changing anything, everything container traffic
between hosts depends on: Docker and the local subnets, ip_forward and
rp_filter, the FORWARD and NAT rules (present, and not defeated by an
earlier DROP or MASQUERADE), every managed route table (this host's routes,
with --peer the peer's, the quota) and, when a daemon runs, the leader,
this host's registration and the last reconcile pass.

Each check prints PASS, WARN, FAIL or SKIP, a one-line cause and the exact
fix. -o json prints {"checks":[{"id","title","result","cause","fix"}],
"summary":{...}}. It exits 1 when a check fails, 0 otherwise, 2 on bad
input.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("timeout") {
				o.Timeout = doctorTimeout
			}
			return runDoctor(cmd.Context(), o, df, cmd.OutOrStdout())
		},
	}
	fs := cmd.Flags()
	addOutputFlag(cmd, &df.output)
	fs.StringVar(&df.peer, "peer", "", "also check the routes to another host: a container IP there, its subnet, or its instance ID")
	fs.StringVar(&df.dockerConfig, "docker-config", "/etc/docker/daemon.json", "Docker's daemon.json: its bip (vpcroute allocate) is compared with what Docker runs (empty: not checked)")
	fs.IntVar(&df.quota, "route-quota", 0, "route entries a table may hold (default: the provider's, 200 custom entries on Alibaba Cloud)")
	fs.DurationVar(&o.Resync, "resync-interval", reconciler.DefaultResync, "the daemons' --resync-interval: a last reconcile older than three of them fails")
	// Every flag of sync, so that doctor runs with the same flags as the
	// sync it diagnoses, and the daemon's status address.
	addShared(cmd, shared, append([]string{groupStatus}, syncGroups...))
	return cmd
}

func runDoctor(ctx context.Context, o *options, df *doctorFlags, stdout io.Writer) error {
	p, err := o.validate()
	if err != nil {
		return usageError{err}
	}
	if err := checkOutput(df.output); err != nil {
		return err
	}
	var peer *doctor.Peer
	if df.peer != "" {
		pp, err := doctor.ParsePeer(df.peer)
		if err != nil {
			return usageError{err}
		}
		peer = &pp
	}
	if df.quota < 0 {
		return usageError{fmt.Errorf("route-quota %d is invalid: expected 0 (the provider's default) or a positive number of entries", df.quota)}
	}
	if o.Resync <= 0 {
		return usageError{fmt.Errorf("resync-interval %s is invalid: expected a positive duration such as 60s", o.Resync)}
	}
	if !strings.Contains(o.StatusAddr, "://") {
		if _, _, err := net.SplitHostPort(o.StatusAddr); err != nil {
			return usageError{fmt.Errorf("status-addr %q is invalid: expected host:port such as %s", o.StatusAddr, status.DefaultAddr)}
		}
	}
	log, err := newLogger(o)
	if err != nil {
		return err
	}
	defer func() { _ = log.Sync() }()

	// Connect first: invalid provider settings are bad input (exit 2); a
	// cloud that does not answer is a finding (cloud.api).
	pctx, cancel := context.WithTimeout(ctx, o.Timeout)
	prov, perr := newProvider(pctx, o, p, log)
	cancel()
	var ue usageError
	if errors.As(perr, &ue) {
		return perr
	}
	opts := doctor.Options{
		Cluster: o.ClusterName, ClusterCIDR: p.clusterCIDR, HostConfig: o.HostConfig, RouteQuota: df.quota,
		Subnets: p.subnets, DockerHost: o.DockerHost, DockerConfig: df.dockerConfig, Networks: o.Networks, ProcSys: o.ProcSys,
		ProviderSpec: o.providerSpec(),
		Provider:     func(context.Context) (cloud.Provider, error) { return prov, perr },
		StatusAddr:   o.StatusAddr, Resync: o.Resync, Peer: peer, Timeout: o.Timeout,
	}
	if len(o.EtcdEndpoints) > 0 {
		opts.Registry = func(ctx context.Context) ([]reconciler.Host, error) {
			ro := o.registryOptions()
			ro.Logger = log.Named("registry")
			reg, err := registry.Open(ctx, ro)
			if err != nil {
				return nil, err
			}
			defer func() { _ = reg.Close() }() // read-only use
			hosts, _, err := reg.Hosts(ctx)
			return hosts, err
		}
	}
	rep := doctor.Run(ctx, opts)
	if df.output == "json" {
		b, err := rep.MarshalIndent()
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(stdout, "%s\n", b); err != nil {
			return err
		}
	} else if err := doctor.RenderText(stdout, rep); err != nil {
		return err
	}
	if failed := rep.Failed(); len(failed) > 0 {
		return fmt.Errorf("doctor: %d check(s) failed: %s", len(failed), strings.Join(failed, ", "))
	}
	return nil
}
