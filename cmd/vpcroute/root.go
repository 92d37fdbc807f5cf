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
)

// newRootCommand builds the command tree. Output and the environment are
// passed in so tests run it in-process without global state.
func newRootCommand(stdout, stderr io.Writer, lookupEnv func(string) (string, bool)) *cobra.Command {
	o := &options{}
	root := &cobra.Command{
		Use:           "vpcroute",
		Short:         "Route Docker container subnets through the VPC route table, and keep them routed",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Name() == "version" {
				return nil
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
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{flagError(err)} })
	o.addGlobalFlags(root.PersistentFlags())
	root.AddCommand(
		newSyncCommand(o),
		newPlanCommand(o),
		newCleanupCommand(o),
		newDaemonCommand(o),
		newStatusCommand(o),
		newDoctorCommand(o),
		newVersionCommand(),
	)
	warnToStderr(root, stderr)
	return root
}

// warnToStderr sends pflag's warnings (a deprecated flag was used) to
// stderr: cobra would copy them to stdout, into `plan -o json`.
func warnToStderr(c *cobra.Command, stderr io.Writer) {
	c.Flags().SetOutput(stderr)
	for _, sub := range c.Commands() {
		warnToStderr(sub, stderr)
	}
}

// flagError keeps a bad --etcd-endpoints value out of the error: it may
// hold a password (http://user:password@host).
func flagError(err error) error {
	if strings.Contains(err.Error(), `"--etcd-endpoints"`) {
		return errors.New("etcd-endpoints is invalid: expected comma-separated http(s)://host:port URLs")
	}
	return err
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
