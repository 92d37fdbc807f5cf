package main

import (
	"context"
	"io"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/vpcroute/vpcroute/reconciler/status"
)

func newStatusCommand(o *options, shared *pflag.FlagSet) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the running daemon's view: this host, the leader, every host and the last reconcile",
		Long: `status reads the local daemon's /status endpoint (--status-addr) and renders
it for a person, or prints it as JSON with -o json (schema: vpcroute.status/v1,
see reconciler/status/SCHEMA.md). It exits 1 when no daemon answers.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runStatus(cmd.Context(), o, output, cmd.OutOrStdout())
		},
	}
	addOutputFlag(cmd, &output)
	addShared(cmd, shared, nil, "config", "status-addr")
	return cmd
}

func runStatus(ctx context.Context, o *options, output string, stdout io.Writer) error {
	if err := checkOutput(output); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	doc, err := status.Fetch(ctx, o.StatusAddr)
	if err != nil {
		return err
	}
	if output == "json" {
		return status.WriteJSON(stdout, doc)
	}
	return status.Render(stdout, doc)
}
