package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/vpcroute/vpcroute/reconciler"
)

func newPlanCommand(o *options) *cobra.Command {
	// Its own variable: status and doctor register -o too, with "text" as
	// the default, and on a shared variable the last default would win.
	var output string
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show what sync would change in the route tables, changing nothing",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Output = output
			return runPlan(cmd.Context(), o, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table or json")
	cmd.Flags().BoolVar(&o.Remove, "remove", false, "plan the removal of this host's routes")
	return cmd
}

func runPlan(ctx context.Context, o *options, stdout io.Writer) error {
	p, err := o.validate()
	if err != nil {
		return usageError{err}
	}
	if o.Output != "table" && o.Output != "json" {
		return usageError{fmt.Errorf("output %q is invalid: expected table or json", o.Output)}
	}
	log, err := newLogger(o)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	prep, err := prepare(ctx, o, p, log)
	if err != nil {
		return err
	}
	if o.Output == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(prep.plan)
	}
	return renderPlan(stdout, prep.plan)
}

// renderPlan prints a plan for a person: one line per route and action.
func renderPlan(w io.Writer, hp reconciler.HostPlan) error {
	fmt.Fprintf(w, "host %s (%s) in %s, region %s\n", hp.Self.ID, hp.Self.PrivateIP, hp.Network.VPCID, hp.Self.Region)
	fmt.Fprintf(w, "subnets %v, VPC CIDRs %v, tables %v\n\n", hp.Subnets, hp.Network.CIDRs, hp.Network.RouteTables)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ACTION\tTABLE\tDESTINATION\tTARGET\tNOTE")
	ch := hp.Changes
	for _, r := range ch.Create {
		fmt.Fprintf(tw, "create\t%s\t%s\t%s\t\n", r.TableID, r.Destination, r.Target)
	}
	for _, r := range ch.Delete {
		fmt.Fprintf(tw, "delete\t%s\t%s\t%s\tno longer a local subnet\n", r.TableID, r.Destination, r.Target)
	}
	for _, r := range ch.InSync {
		fmt.Fprintf(tw, "keep\t%s\t%s\t%s\t%s\n", r.TableID, r.Destination, r.Target, r.Status)
	}
	for _, c := range ch.Conflicts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.Kind, c.Holder.TableID, c.Desired.Destination, c.Holder.Target, c.Reason)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if ch.Empty() {
		fmt.Fprintln(w, "\nno changes")
	} else {
		fmt.Fprintf(w, "\n%d to create, %d to delete\n", len(ch.Create), len(ch.Delete))
	}
	return nil
}
