package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/vpcroute/vpcroute/cloud"
)

// extraCommands are the commands only some builds link: the hidden
// gen-man (genman.go, -tags genman) is for packaging, and its man-page
// libraries would cost every agent 0.7 MiB resident (BENCHMARKS.md).
var extraCommands []func() *cobra.Command

// newRootCommand builds the command tree. Output and the environment are
// passed in so tests run it in-process without global state.
func newRootCommand(stdout, stderr io.Writer, lookupEnv func(string) (string, bool)) *cobra.Command {
	return newRootCommandWith(providers(), stdout, stderr, lookupEnv)
}

// newRootCommandWith is newRootCommand for the providers of reg.
func newRootCommandWith(reg *cloud.Registry, stdout, stderr io.Writer, lookupEnv func(string) (string, bool)) *cobra.Command {
	o, shared := newOptionsWith(reg)
	root := &cobra.Command{
		Use:           "vpcroute",
		Short:         "Route Docker container subnets through the VPC route table, and keep them routed",
		SilenceUsage:  true,
		SilenceErrors: true,
		// SuggestionsFor offers commands within this edit distance.
		SuggestionsMinimumDistance: 2,
		// A word that is no command is bad input (exit 2), as a bad flag is.
		Args: subcommandArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Flags().Lookup("config") == nil {
				return nil // version, options, completion: no settings to read
			}
			explicit := cmd.Flags().Changed("config")
			if v, ok := lookupEnv(envName("config")); ok && !explicit {
				o.Config, explicit = v, true
			}
			if err := bindSources(cmd.Flags(), knownFlags(cmd.Root()), o.Config, explicit, lookupEnv); err != nil {
				return usageError{err}
			}
			return nil
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error { return usageError{flagError(cmd, err)} })
	root.AddCommand(
		newSyncCommand(o, shared),
		newAllocateCommand(o, shared),
		newPlanCommand(o, shared),
		newCleanupCommand(o, shared),
		newDaemonCommand(o, shared),
		newStatusCommand(o, shared),
		newDoctorCommand(o, shared),
		newVersionCommand(),
		newOptionsCommand(),
	)
	for _, c := range extraCommands {
		root.AddCommand(c())
	}
	// Added now rather than at Execute, so that help, `vpcroute options`
	// and the man pages see it.
	root.InitDefaultCompletionCmd()
	root.DisableAutoGenTag = true // man pages carry no build date
	setHelp(root)
	mapArgErrors(root)
	registerCompletions(root, reg)
	warnToStderr(root, stderr)
	return root
}

// subcommandArgs refuses, as bad input, a word after a command that only
// groups others (the root, completion): it names no command.
func subcommandArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		return usageError{fmt.Errorf("unknown command %q for %s: did you mean %s?", args[0], cmd.CommandPath(), strings.Join(s, " or "))}
	}
	return usageError{fmt.Errorf("unknown command %q for %s: expected one of %s", args[0], cmd.CommandPath(), strings.Join(commandNames(cmd), ", "))}
}

// mapArgErrors makes every positional-argument error of the commands
// below root (cobra.NoArgs and the like) bad input: exit status 2. A
// command that only groups others prints its help alone, and refuses
// anything after it as subcommandArgs does; cobra would print the help
// and exit 0.
func mapArgErrors(root *cobra.Command) {
	for _, c := range root.Commands() {
		if !c.Runnable() && c.HasSubCommands() {
			c.SuggestionsMinimumDistance = root.SuggestionsMinimumDistance
			c.Args = subcommandArgs
			c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
			mapArgErrors(c)
			continue
		}
		if args := c.Args; args != nil {
			c.Args = func(cmd *cobra.Command, a []string) error {
				if err := args(cmd, a); err != nil {
					return usageError{argError(cmd, a, err)}
				}
				return nil
			}
		}
		mapArgErrors(c)
	}
}

// argError says what was wrong with a command's arguments, in one line.
func argError(cmd *cobra.Command, args []string, err error) error {
	if len(args) > 0 && strings.HasPrefix(err.Error(), "unknown command ") {
		// cobra.NoArgs' wording suggests a subcommand was meant.
		return fmt.Errorf("unexpected argument %q: %s takes no arguments (flags start with --)", args[0], cmd.CommandPath())
	}
	return fmt.Errorf("%s: %w", cmd.CommandPath(), err)
}

// commandNames lists the commands a user may type under c.
func commandNames(c *cobra.Command) []string {
	var names []string
	for _, sub := range c.Commands() {
		if sub.IsAvailableCommand() {
			names = append(names, sub.Name())
		}
	}
	return names
}

// warnToStderr sends pflag's warnings (a deprecated flag was used) to
// stderr: cobra would copy them to stdout, into `plan -o json`.
func warnToStderr(c *cobra.Command, stderr io.Writer) {
	c.Flags().SetOutput(stderr)
	for _, sub := range c.Commands() {
		warnToStderr(sub, stderr)
	}
}

// flagError keeps a bad --etcd-endpoints value out of the error (it may
// hold a password: http://user:password@host), and says which commands
// take a flag that this one does not.
func flagError(cmd *cobra.Command, err error) error {
	if strings.Contains(err.Error(), `"--etcd-endpoints"`) {
		return errors.New("etcd-endpoints is invalid: expected comma-separated http(s)://host:port URLs")
	}
	if name, ok := strings.CutPrefix(err.Error(), "unknown flag: --"); ok {
		if users := commandsWithFlag(cmd.Root(), name); len(users) > 0 {
			return fmt.Errorf("%w (%s does not take it; it is a flag of %s)", err, cmd.CommandPath(), strings.Join(users, ", "))
		}
	}
	return err
}

// commandsWithFlag lists the commands under root that take --name.
func commandsWithFlag(root *cobra.Command, name string) []string {
	var out []string
	for _, c := range root.Commands() {
		if c.Flags().Lookup(name) != nil {
			out = append(out, c.Name())
		}
	}
	return out
}

// knownFlags returns the name of every flag of every command: one config
// file serves them all, so a key only the daemon reads is no error for sync.
func knownFlags(root *cobra.Command) map[string]bool {
	known := map[string]bool{}
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		for _, fs := range []*pflag.FlagSet{c.PersistentFlags(), c.LocalFlags()} {
			fs.VisitAll(func(f *pflag.Flag) { known[f.Name] = true })
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	return known
}

// newLogger builds the zap logger the options ask for, writing to stderr
// scrubbed of credentials.
func newLogger(o *options) (*zap.Logger, error) {
	return newLoggerTo(o, zapcore.Lock(os.Stderr))
}

// newLoggerTo is newLogger writing to out.
func newLoggerTo(o *options, out zapcore.WriteSyncer) (*zap.Logger, error) {
	level, err := zapcore.ParseLevel(o.LogLevel)
	if err != nil {
		return nil, usageError{fmt.Errorf("log-level %q is invalid: expected debug, info, warn or error", o.LogLevel)}
	}
	var enc zapcore.Encoder
	if o.LogFormat == "json" {
		enc = zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	} else {
		cfg := zap.NewDevelopmentEncoderConfig()
		cfg.EncodeTime = zapcore.TimeEncoderOfLayout("15:04:05.000")
		enc = zapcore.NewConsoleEncoder(cfg)
	}
	sink := redactingSink{out}
	return zap.New(zapcore.NewCore(enc, sink, level), zap.ErrorOutput(sink)), nil
}
