// Command vpcroute-sim serves a simulated Alibaba Cloud region (VPC and ECS
// APIs, ECS metadata, /sim/v1 admin API) for vpcroute's tests and demo. See
// package cloud/sim for the behaviour and the admin API.
//
//	vpcroute-sim --listen 127.0.0.1:0 [--listen unix:/run/sim.sock] [--topology FILE]
//	             [--dataplane-netns NAME|self] [--pending-delay 2s] [--log-format console|json]
//
// The first stdout line is "listening on ADDR" for the first --listen (one
// line per listener follows, in order), so a test can start it with port 0.
// SIGTERM or SIGINT shuts it down cleanly and removes the kernel routes the
// data plane added.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/vpcroute/vpcroute/cloud/sim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := newCommand(os.Stdout).ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "vpcroute-sim: "+strings.ReplaceAll(err.Error(), "\n", "; "))
		stop()
		os.Exit(1)
	}
}

func newCommand(stdout io.Writer) *cobra.Command {
	o := defaultOptions()
	cmd := &cobra.Command{
		Use:           "vpcroute-sim",
		Short:         "Simulated Alibaba Cloud VPC/ECS APIs and metadata for vpcroute's tests and demo",
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
		_, err := stdout.Write(sim.DefaultTopologyYAML())
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
	listeners := make([]net.Listener, 0, len(o.Listen))
	closeAll := func() {
		for _, l := range listeners {
			_ = l.Close() // startup already failed; that error is reported
		}
	}
	for _, spec := range o.Listen {
		l, err := sim.Listen(spec)
		if err != nil {
			closeAll()
			return errors.Join(err, s.Close())
		}
		listeners = append(listeners, l)
	}
	addrs := make([]string, 0, len(listeners))
	for _, l := range listeners {
		addrs = append(addrs, sim.ListenerAddr(l))
		if _, err := fmt.Fprintf(stdout, "listening on %s\n", sim.ListenerAddr(l)); err != nil {
			closeAll()
			return errors.Join(fmt.Errorf("write listening address: %w", err), s.Close())
		}
	}
	log.Info("simulator ready", zap.Strings("listen", addrs), zap.String("region", s.Region()),
		zap.String("dataplaneNetns", o.DataplaneNetns), zap.Any("behaviour", s.Behaviour()))
	err = s.Serve(ctx, listeners...)
	log.Info("simulator stopped")
	return err
}
