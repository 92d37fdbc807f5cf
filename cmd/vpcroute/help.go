package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Help is rendered by plain functions rather than cobra's text/template
// templates: templates keep the linker from dropping unused methods, which
// makes the binary larger.

// commonFlags are the shared flags a command's help shows, when the command
// takes them; its other shared flags are listed by `vpcroute options`.
var commonFlags = map[string]bool{
	"config": true, "provider": true, "cluster-cidr": true, "cluster-name": true,
	"etcd-endpoints": true, "status-addr": true, "log-level": true,
}

// setHelp makes root and every command below it print help and usage with
// writeHelp and writeUsage.
func setHelp(root *cobra.Command) {
	root.SetHelpFunc(func(c *cobra.Command, _ []string) { _ = writeHelp(c.OutOrStdout(), c) })
	root.SetUsageFunc(func(c *cobra.Command) error { return writeUsage(c.OutOrStderr(), c) })
}

// writeHelp writes a command's description, then its usage.
func writeHelp(w io.Writer, c *cobra.Command) error {
	desc := strings.TrimSpace(c.Long)
	if desc == "" {
		desc = c.Short
	}
	if _, err := fmt.Fprintf(w, "%s\n\n", desc); err != nil {
		return err
	}
	return writeUsage(w, c)
}

// writeUsage writes how to call a command: its synopsis, its subcommands,
// its own flags, the common shared flags it takes, and one line saying
// where its other flags are listed.
func writeUsage(w io.Writer, c *cobra.Command) error {
	var b strings.Builder
	b.WriteString("Usage:\n")
	if c.HasAvailableSubCommands() {
		fmt.Fprintf(&b, "  %s <command> [flags]\n", c.CommandPath())
	} else {
		fmt.Fprintf(&b, "  %s\n", c.UseLine())
	}
	if len(c.Aliases) > 0 {
		fmt.Fprintf(&b, "\nAliases:\n  %s\n", strings.Join(append([]string{c.Name()}, c.Aliases...), ", "))
	}
	if c.HasExample() {
		fmt.Fprintf(&b, "\nExamples:\n%s\n", c.Example)
	}
	if c.HasAvailableSubCommands() {
		b.WriteString("\nCommands:\n")
		subs := c.Commands()
		width := 0
		for _, s := range subs {
			if s.IsAvailableCommand() {
				width = max(width, len(s.Name()))
			}
		}
		for _, s := range subs {
			if s.IsAvailableCommand() {
				fmt.Fprintf(&b, "  %-*s  %s\n", width, s.Name(), s.Short)
			}
		}
	}
	own, common, other := splitFlags(c)
	if own.HasAvailableFlags() {
		fmt.Fprintf(&b, "\nFlags:\n%s", own.FlagUsages())
	}
	if common.HasAvailableFlags() {
		fmt.Fprintf(&b, "\nCommon flags:\n%s", common.FlagUsages())
	}
	fmt.Fprintf(&b, "\n%s\n", helpFooter(c, other))
	_, err := io.WriteString(w, b.String())
	return err
}

// splitFlags sorts a command's visible flags into its own, the common
// shared ones, and the names of the groups of its other shared ones with
// how many there are.
func splitFlags(c *cobra.Command) (own, common *pflag.FlagSet, other otherFlags) {
	own = pflag.NewFlagSet(c.Name(), pflag.ContinueOnError)
	common = pflag.NewFlagSet(c.Name(), pflag.ContinueOnError)
	c.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		switch g := flagGroup(f); {
		case g == "":
			own.AddFlag(f)
		case commonFlags[f.Name]:
			common.AddFlag(f)
		default:
			other.add(g)
		}
	})
	return own, common, other
}

// otherFlags counts a command's shared flags its help leaves out, by group.
type otherFlags struct {
	n      int
	groups map[string]bool
}

func (o *otherFlags) add(group string) {
	if o.groups == nil {
		o.groups = map[string]bool{}
	}
	o.n++
	o.groups[group] = true
}

// helpFooter is the last line of a command's help: where the flags it
// does not show are listed.
func helpFooter(c *cobra.Command, other otherFlags) string {
	root := c.Root().Name()
	if !c.HasParent() {
		return fmt.Sprintf(`Run "%s <command> --help" for a command's flags, "%s options" for the flags the commands share.`, root, root)
	}
	if other.n == 0 {
		return fmt.Sprintf(`Run "%s options" for the flags the commands share.`, root)
	}
	var groups []string
	for _, g := range flagGroups {
		if other.groups[g] {
			groups = append(groups, strings.ToLower(g))
		}
	}
	return fmt.Sprintf(`Run "%s options %s" for its %d other flags: %s.`, root, c.Name(), other.n, strings.Join(groups, ", "))
}
