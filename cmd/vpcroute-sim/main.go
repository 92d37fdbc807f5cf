// Command vpcroute-sim serves a simulated cloud region for vpcroute's tests
// and demo: Alibaba Cloud (VPC and ECS APIs, ECS metadata) or AWS (the EC2
// Query API, IMDSv2), with the /sim/v1 admin API. See package cloud/sim for
// the behaviour and the admin API.
//
//	vpcroute-sim --listen 127.0.0.1:0 [--listen unix:/run/sim.sock]
//	             [--topology FILE | --topology-default aliyun|aws]
//	             [--metadata-listen INSTANCE=127.0.0.1:0]...
//	             [--dataplane-netns NAME|self] [--pending-delay 2s] [--log-format console|json]
//
// The first stdout line is "listening on ADDR" for the first --listen (one
// line per listener follows, in order), so a test can start it with port 0.
// Then each --metadata-listen prints "metadata INSTANCE ADDR", in order.
// SIGTERM or SIGINT shuts it down cleanly and removes the kernel routes the
// data plane added.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/vpcroute/vpcroute/cloud/sim"
	"github.com/vpcroute/vpcroute/internal/textline"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := newCommand(os.Stdout).ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "vpcroute-sim: "+textline.Join(err.Error(), "; "))
		stop()
		os.Exit(1)
	}
}

func newCommand(stdout io.Writer) *cobra.Command {
	o := defaultOptions()
	cmd := &cobra.Command{
		Use:           "vpcroute-sim",
		Short:         "Simulated Alibaba Cloud (VPC/ECS) or AWS (EC2, IMDSv2) APIs and metadata for vpcroute's tests and demo",
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(cmd.Context(), o, stdout)
		},
	}
	o.bind(cmd.Flags())
	return cmd
}

func run(ctx context.Context, o *options, stdout io.Writer) error {
	if err := o.Validate(); err != nil {
		return err
	}
	if o.PrintTopology {
		_, err := stdout.Write(o.defaultTopologyYAML())
		return err
	}
	topo, err := o.topology()
	if err != nil {
		return err
	}
	log, err := o.logger()
	if err != nil {
		return err
	}
	defer func() { _ = log.Sync() }() // stderr sync errors are not actionable
	s, err := sim.New(topo, o.simOptions(log)...)
	if err != nil {
		return err
	}
	known := map[string]bool{}
	for _, in := range s.Instances() {
		known[in.ID] = true
	}
	endpoints := make([]sim.Endpoint, 0, len(o.Listen)+len(o.MetadataListen))
	closeAll := func() {
		for _, ep := range endpoints {
			_ = ep.Listener.Close() // startup already failed; that error is reported
		}
	}
	for _, spec := range o.Listen {
		l, err := sim.Listen(spec)
		if err != nil {
			closeAll()
			return errors.Join(err, s.Close())
		}
		endpoints = append(endpoints, sim.Endpoint{Listener: l})
	}
	for _, m := range o.metadataListeners() {
		if !known[m[0]] {
			closeAll()
			return errors.Join(flagError("metadata-listen", m[0]+"="+m[1], "the ID of an instance of the topology"), s.Close())
		}
		l, err := sim.Listen(m[1])
		if err != nil {
			closeAll()
			return errors.Join(err, s.Close())
		}
		endpoints = append(endpoints, sim.Endpoint{Listener: l, Instance: m[0]})
	}
	addrs := make([]string, 0, len(endpoints))
	for _, ep := range endpoints {
		addr := sim.ListenerAddr(ep.Listener)
		line := "listening on " + addr
		if ep.Instance != "" {
			line = "metadata " + ep.Instance + " " + addr
		}
		addrs = append(addrs, line)
		if _, err := fmt.Fprintln(stdout, line); err != nil {
			closeAll()
			return errors.Join(fmt.Errorf("write listening address: %w", err), s.Close())
		}
	}
	log.Info("simulator ready", zap.String("provider", s.Provider()), zap.Strings("listen", addrs), zap.String("region", s.Region()),
		zap.String("dataplaneNetns", o.DataplaneNetns), zap.Any("behaviour", s.Behaviour()))
	err = s.ServeEndpoints(ctx, endpoints...)
	log.Info("simulator stopped")
	return err
}
