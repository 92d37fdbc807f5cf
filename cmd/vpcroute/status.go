package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/vpcroute/vpcroute/reconciler/status"
)

func newStatusCommand(o *options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the running daemon's view: this host, the leader, every host and the last reconcile",
		Long: `status reads the local daemon's /status endpoint (--status-addr) and renders
it for a person, or prints it as JSON with -o json (schema: vpcroute.status/v1,
see reconciler/status/SCHEMA.md). It exits 1 when no daemon answers.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runStatus(cmd.Context(), o, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", "text", "output format: text or json")
	return cmd
}

func runStatus(ctx context.Context, o *options, stdout io.Writer) error {
	if o.Output != "text" && o.Output != "json" {
		return usageError{fmt.Errorf("output %q is invalid: expected text or json", o.Output)}
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	doc, err := status.Fetch(ctx, o.StatusAddr)
	if err != nil {
		return err
	}
	if o.Output == "json" {
		return status.WriteJSON(stdout, doc)
	}
	return status.Render(stdout, doc)
}
