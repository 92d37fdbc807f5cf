package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/hostcfg"
)

func newCleanupCommand(o *options, shared *pflag.FlagSet) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cleanup",
		Short: "Remove exactly what vpcroute added to this host's iptables, and nothing else",
		Long: `cleanup removes vpcroute's iptables chains and jumps and restores the
FORWARD policy if vpcroute changed it. It leaves ip_forward on (Docker
needs it too) and does not touch the route tables: use sync --remove.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCleanup(cmd.Context(), o, cmd.OutOrStdout())
		},
	}
	addShared(cmd, shared, []string{groupGeneral}, "cluster-name", "state-dir", "proc-sys")
	return cmd
}

func runCleanup(ctx context.Context, o *options, stdout io.Writer) error {
	if err := cloud.ValidateClusterName(o.ClusterName); err != nil {
		return usageError{err}
	}
	log, err := newLogger(o)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	res, err := hostcfg.Cleanup(ctx, hostcfg.Options{Cluster: o.ClusterName, ProcSys: o.ProcSys, StateDir: o.StateDir}, log)
	if err != nil {
		return fmt.Errorf("cleanup: %w", err)
	}
	fmt.Fprintf(stdout, "cleaned up: changed=%v\n", res.Changed())
	return nil
}
