package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/vpcroute/vpcroute/reconciler"
)

func newPlanCommand(o *options, shared *pflag.FlagSet) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show what sync would change in the route tables, changing nothing",
		Long: `plan reads this host's subnets and every managed route table and prints
what sync would create, delete and keep, and every conflict, changing
nothing. -o json prints the plan for scripts (schema vpcroute.plan/v1, see
cmd/vpcroute/PLAN_SCHEMA.md).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runPlan(cmd.Context(), o, output, cmd.OutOrStdout())
		},
	}
	addOutputFlag(cmd, &output)
	cmd.Flags().BoolVar(&o.Remove, "remove", false, "plan the removal of this host's routes")
	// Every flag of sync, even those plan does not act on (host
	// configuration, the registry): any sync command line can be planned.
	addShared(cmd, shared, syncGroups)
	return cmd
}

func runPlan(ctx context.Context, o *options, output string, stdout io.Writer) error {
	p, err := o.validate()
	if err != nil {
		return usageError{err}
	}
	if output == "table" { // plan's word for text before v1 of the JSON
		output = outputText
	}
	if err := checkOutput(output); err != nil {
		return err
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
	if output == outputJSON {
		return writePlanJSON(stdout, newPlanDocument(o.ClusterName, o.Remove, prep.plan))
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
