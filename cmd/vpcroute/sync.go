package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/vpcroute/vpcroute/hostcfg"
	"github.com/vpcroute/vpcroute/reconciler"
)

func newSyncCommand(o *options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sync",
		Short: "Configure this host and ensure its routes in every managed route table, then exit",
		Long: `sync discovers this host's container subnets, enables ip_forward, lets the
cluster's traffic through iptables, and creates "subnet -> this instance"
routes in every managed route table. It exits 0 only when the host is
configured and every route is Available. Running it again changes nothing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSync(cmd.Context(), o, cmd.OutOrStdout())
		},
	}
	cmd.Flags().BoolVar(&o.Remove, "remove", false, "delete this host's routes instead (decommissioning)")
	return cmd
}

func runSync(ctx context.Context, o *options, stdout io.Writer) error {
	p, err := o.validate()
	if err != nil {
		return usageError{err}
	}
	log, err := newLogger(o)
	if err != nil {
		return err
	}
	defer func() { _ = log.Sync() }()
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	start := time.Now()

	prep, err := prepare(ctx, o, p, log)
	if err != nil {
		return err
	}
	plan := prep.plan
	if o.HostConfig && !o.Remove {
		res, err := hostcfg.Apply(ctx, hostOptions(o, p, plan.Subnets, plan.Network.CIDRs), log)
		if err != nil {
			return fmt.Errorf("configure host: %w", err)
		}
		log.Info("host configured", zap.Bool("changed", res.Changed()))
	}
	err = reconciler.ApplyHost(ctx, prep.provider, o.ClusterName, plan, o.Timeout)
	ch := plan.Changes
	fmt.Fprintf(stdout, "%s: instance %s, subnets %v: created %d, deleted %d, in sync %d, in %d tables (%.1fs)\n",
		verb(o.Remove, err), plan.Self.ID, plan.Subnets, len(ch.Create), len(ch.Delete), len(ch.InSync),
		len(plan.Network.RouteTables), time.Since(start).Seconds())
	for _, c := range ch.Conflicts {
		if !c.Blocking() {
			log.Warn("route is shadowed", zap.String("reason", c.Reason))
		}
	}
	return err
}

func verb(remove bool, err error) string {
	switch {
	case err != nil:
		return "sync failed"
	case remove:
		return "removed"
	}
	return "synced"
}
