package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// newOptionsCommand lists the shared flags each command's help leaves out,
// as `kubectl options` does.
func newOptionsCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "options [command]",
		Short: "List the flags several commands share, and which commands take them",
		Long: `options lists the flags several commands share, by group, with the commands
that take each group; with a command, only the shared flags of that command.
A command's help shows its own flags and the common ones (--config,
--provider, --cluster-cidr, --cluster-name, --etcd-endpoints, --status-addr,
--log-level) that it takes.`,
		Args: cobra.MaximumNArgs(1),
		ValidArgsFunction: func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return commandNames(cmd.Root()), cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			root := cmd.Root()
			cmds := root.Commands()
			if len(args) == 1 {
				c, _, err := root.Find(args)
				if err != nil || c == root || !c.IsAvailableCommand() {
					return usageError{fmt.Errorf("command %q is unknown: expected one of %s", args[0], strings.Join(commandNames(root), ", "))}
				}
				cmds = []*cobra.Command{c}
			}
			return writeOptions(cmd.OutOrStdout(), root, cmds, len(args) == 1)
		},
	}
}

// sharedFlag is one shared flag and the commands, among those listed,
// that take it.
type sharedFlag struct {
	flag *pflag.Flag
	cmds []string
}

// writeOptions writes the shared flags of cmds by group. Unless one command
// was asked for, each group names the commands that take it, and a flag
// taken by fewer names its own.
func writeOptions(w io.Writer, root *cobra.Command, cmds []*cobra.Command, one bool) error {
	byGroup := map[string][]*sharedFlag{}
	seen := map[string]*sharedFlag{}
	for _, c := range cmds {
		c.Flags().VisitAll(func(f *pflag.Flag) {
			g := flagGroup(f)
			if g == "" || f.Hidden {
				return
			}
			sf := seen[f.Name]
			if sf == nil {
				sf = &sharedFlag{flag: f}
				seen[f.Name] = sf
				byGroup[g] = append(byGroup[g], sf)
			}
			sf.cmds = append(sf.cmds, c.Name())
		})
	}
	var b strings.Builder
	if one {
		fmt.Fprintf(&b, "Flags of %s shared with other commands (its own: %s --help).\n", cmds[0].CommandPath(), cmds[0].CommandPath())
	} else {
		b.WriteString("Flags shared by several commands (each command's own: vpcroute <command> --help).\n")
	}
	fmt.Fprintf(&b, "Each is also an environment variable, %s and the name in capitals (--cluster-cidr:\n", envPrefix)
	fmt.Fprintf(&b, "%s; lists comma-separated), and a key of the config file (--config).\n", envName("cluster-cidr"))
	b.WriteString("The command line wins over the environment, the environment over the file.\n")
	for _, g := range flagGroups {
		flags := byGroup[g]
		if len(flags) == 0 {
			continue
		}
		groupCmds := unionCmds(flags)
		fs := pflag.NewFlagSet(g, pflag.ContinueOnError)
		for _, sf := range flags {
			f := sf.flag
			if !one && len(sf.cmds) < len(groupCmds) {
				cp := *f
				cp.Usage += " [" + strings.Join(sf.cmds, ", ") + " only]"
				f = &cp
			}
			fs.AddFlag(f)
		}
		if one {
			fmt.Fprintf(&b, "\n%s:\n", g)
		} else {
			fmt.Fprintf(&b, "\n%s (%s):\n", g, strings.Join(groupCmds, ", "))
		}
		b.WriteString(fs.FlagUsages())
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// unionCmds lists the commands taking any of flags, sorted.
func unionCmds(flags []*sharedFlag) []string {
	var out []string
	have := map[string]bool{}
	for _, sf := range flags {
		for _, c := range sf.cmds {
			if !have[c] {
				have[c] = true
				out = append(out, c)
			}
		}
	}
	slices.Sort(out)
	return out
}
