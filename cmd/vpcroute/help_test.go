package main

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
)

// execute runs the command tree in-process with args and the environment
// env, and returns its stdout, its stderr and its error.
func execute(t *testing.T, environ map[string]string, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	root := newRootCommand(&stdout, &stderr, env(environ))
	root.SetArgs(args)
	err := root.Execute()
	return stdout.String(), stderr.String(), err
}

// daemonOnly are the daemon's own flags: no other command may take them.
var daemonOnly = []string{"debounce", "host-check-interval", "heartbeat-interval", "lease-ttl", "silent-after", "allow-mass-delete"}

// TestCommandFlags: each command takes the flags it reads and no others.
func TestCommandFlags(t *testing.T) {
	tests := []struct {
		cmd       string
		has, lack []string
	}{
		{"sync", []string{"remove", "config", "cluster-cidr", "provider", "private-ip", "subnet", "policy", "host-config", "forward-policy", "state-dir", "etcd-endpoints", "timeout", "log-level"},
			append([]string{"output", "status-addr", "resync-interval"}, daemonOnly...)},
		// plan takes every flag of sync: any sync command line can be planned.
		{"plan", []string{"output", "remove", "config", "cluster-cidr", "provider", "private-ip", "subnet", "allow-carve-out", "timeout",
			"host-config", "etcd-endpoints"}, append([]string{"status-addr", "resync-interval"}, daemonOnly...)},
		{"daemon", append([]string{"resync-interval", "etcd-endpoints", "status-addr", "host-config", "provider"}, daemonOnly...), []string{"output", "remove"}},
		// doctor takes every flag of sync: it runs with the flags of the
		// sync it diagnoses.
		{"doctor", []string{"output", "peer", "route-quota", "resync-interval", "etcd-endpoints", "status-addr", "host-config", "provider", "subnet",
			"state-dir", "forward-policy"}, append([]string{"remove"}, daemonOnly...)},
		{"status", []string{"output", "config", "status-addr"},
			append([]string{"provider", "cluster-cidr", "cluster-name", "etcd-endpoints", "timeout", "log-level"}, daemonOnly...)},
		{"cleanup", []string{"config", "cluster-name", "state-dir", "timeout", "log-level"},
			append([]string{"provider", "cluster-cidr", "subnet", "etcd-endpoints", "host-config", "status-addr"}, daemonOnly...)},
		{"version", nil, []string{"config", "provider", "cluster-cidr", "log-level"}},
		// allocate runs before dockerd: no Docker, host or routing flags.
		{"allocate", []string{"docker-config", "host-subnet-size", "allocator", "force", "config", "cluster-cidr", "cluster-name",
			"provider", "private-ip", "vpc-cidr", "etcd-endpoints", "timeout", "log-level"},
			append([]string{"output", "remove", "subnet", "network", "docker-host", "host-config", "forward-policy", "policy", "status-addr"}, daemonOnly...)},
	}
	root := newRootCommand(&bytes.Buffer{}, &bytes.Buffer{}, env(nil))
	for _, tt := range tests {
		c, _, err := root.Find([]string{tt.cmd})
		if err != nil || c.Name() != tt.cmd {
			t.Fatalf("%s: %v", tt.cmd, err)
		}
		for _, f := range tt.has {
			if c.Flags().Lookup(f) == nil {
				t.Errorf("%s lacks --%s", tt.cmd, f)
			}
		}
		for _, f := range tt.lack {
			if c.Flags().Lookup(f) != nil {
				t.Errorf("%s takes --%s, which it does not use", tt.cmd, f)
			}
		}
	}
}

// TestHelpShowsOwnAndCommonFlags: a command's help lists its own flags,
// the common ones it takes, and one footer line naming `vpcroute options`;
// never another command's flags, nor its own rarer shared ones.
func TestHelpShowsOwnAndCommonFlags(t *testing.T) {
	tests := []struct {
		cmd       string
		show, not []string
		footer    string
		maxLines  int
	}{
		{"sync", []string{"--remove", "--cluster-cidr", "--cluster-name", "--config", "--provider", "--etcd-endpoints", "--log-level"},
			append([]string{"--endpoint", "--subnet", "--etcd-ca-file", "--output", "--resync-interval"}, flagNames2(daemonOnly)...),
			`Run "vpcroute options sync" for its `, 25},
		{"plan", []string{"--output", "--remove", "--cluster-cidr", "--provider", "--etcd-endpoints"},
			append([]string{"--host-config", "--endpoint"}, flagNames2(daemonOnly)...),
			`Run "vpcroute options plan" for its `, 25},
		{"daemon", append([]string{"--resync-interval", "--etcd-endpoints", "--status-addr"}, flagNames2(daemonOnly)...),
			[]string{"--output", "--etcd-ca-file", "--subnet"}, `Run "vpcroute options daemon" for its `, 40},
		{"doctor", []string{"--output", "--peer", "--route-quota", "--resync-interval", "--status-addr"},
			flagNames2(daemonOnly), `Run "vpcroute options doctor" for its `, 40},
		{"status", []string{"--output", "--status-addr", "--config"}, append([]string{"--provider", "--cluster-cidr"}, flagNames2(daemonOnly)...),
			`Run "vpcroute options" for the flags the commands share.`, 20},
		{"cleanup", []string{"--cluster-name", "--config", "--log-level"}, append([]string{"--provider", "--cluster-cidr", "--subnet"}, flagNames2(daemonOnly)...),
			`Run "vpcroute options cleanup" for its 3 other flags: general, host configuration.`, 20},
		{"version", []string{"--help"}, []string{"--config", "--cluster-cidr", "--provider", "--log-level"},
			`Run "vpcroute options" for the flags the commands share.`, 12},
		{"allocate", []string{"--docker-config", "--host-subnet-size", "--allocator", "--force", "--cluster-cidr", "--etcd-endpoints"},
			append([]string{"--subnet", "--host-config", "--remove", "--status-addr"}, flagNames2(daemonOnly)...),
			`Run "vpcroute options allocate" for its `, 30},
	}
	for _, tt := range tests {
		t.Run(tt.cmd, func(t *testing.T) {
			out, stderr, err := execute(t, nil, tt.cmd, "--help")
			if err != nil || stderr != "" {
				t.Fatalf("err %v, stderr %q", err, stderr)
			}
			for _, f := range tt.show {
				if !strings.Contains(out, f+" ") {
					t.Errorf("help lacks %s", f)
				}
			}
			for _, f := range tt.not {
				if strings.Contains(out, f+" ") {
					t.Errorf("help shows %s", f)
				}
			}
			lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
			if last := lines[len(lines)-1]; !strings.HasPrefix(last, tt.footer) {
				t.Errorf("last line %q, want it to start with %q", last, tt.footer)
			}
			if len(lines) > tt.maxLines {
				t.Errorf("help is %d lines, want at most %d:\n%s", len(lines), tt.maxLines, out)
			}
		})
	}
}

// flagNames2 turns flag names into their command-line spelling.
func flagNames2(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "--" + n
	}
	return out
}

func TestRootHelpListsCommands(t *testing.T) {
	for _, args := range [][]string{nil, {"--help"}, {"help"}} {
		out, _, err := execute(t, nil, args...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		for _, want := range []string{"\n  completion  ", "\n  options     ", "\n  sync        ", "\n  version     ",
			`Run "vpcroute <command> --help" for a command's flags, "vpcroute options" for the flags the commands share.`} {
			if !strings.Contains(out, want) {
				t.Errorf("%v: help lacks %q:\n%s", args, want, out)
			}
		}
		if strings.Contains(out, "gen-man") || strings.Contains(out, "--cluster-cidr") {
			t.Errorf("%v: help shows the hidden gen-man or a command's flag:\n%s", args, out)
		}
	}
}

// TestOptionsListsSharedFlags: `vpcroute options` names, per group, the
// commands that take it, and each flag a narrower set takes its own.
func TestOptionsListsSharedFlags(t *testing.T) {
	out, _, err := execute(t, nil, "options")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"\nCloud (allocate, daemon, doctor, plan, sync):\n",
		"\nRegistry (allocate, daemon, doctor, plan, sync):\n",
		"\nDaemon status (daemon, doctor, status):\n",
		"\nHost configuration (cleanup, daemon, doctor, plan, sync):\n",
		"[daemon, doctor, plan, sync only]", // forward-policy
		"\nRouting (daemon, doctor, plan, sync):\n",
		"--private-ip string",
		"VPCROUTE_CLUSTER_CIDR",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("options lacks %q:\n%s", want, out)
		}
	}
	for _, not := range append([]string{"--proc-sys", "--etcd-password ", "--remove", "--output", "--resync-interval"}, flagNames2(daemonOnly)...) {
		if strings.Contains(out, not) {
			t.Errorf("options lists %s, not a shared visible flag", not)
		}
	}
	out, _, err = execute(t, nil, "options", "status")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "--status-addr") || !strings.Contains(out, "--config") || strings.Contains(out, "--provider") {
		t.Errorf("options status:\n%s", out)
	}
	_, _, err = execute(t, nil, "options", "sink")
	var ue usageError
	if !errors.As(err, &ue) || err.Error() != `command "sink" is unknown: expected one of allocate, cleanup, completion, daemon, doctor, options, plan, status, sync, version` {
		t.Errorf("options sink: %v", err)
	}
}

// TestConfigKeysOfOtherCommands: one config file serves every command, so
// a key only the daemon reads is no error for status; an environment
// variable of a flag a command does not take is not read by it.
func TestConfigKeysOfOtherCommands(t *testing.T) {
	cfg := writeConfig(t, "cluster-cidr: 10.0.0.0/8\nlease-ttl: 5s\nforward-policy: accept\nresync-interval: 30s\n")
	_, _, err := execute(t, map[string]string{"VPCROUTE_LEASE_TTL": "not a duration"}, "status", "--config", cfg, "-o", "yaml")
	if err == nil || err.Error() != `output "yaml" is invalid: expected text or json` {
		t.Errorf("status with daemon keys in its config: %v", err)
	}
	_, _, err = execute(t, nil, "sync", "--config", cfg, "--cluster-cidr", "10.0.0/8")
	if err == nil || !strings.HasPrefix(err.Error(), `cluster-cidr "10.0.0/8" is invalid`) {
		t.Errorf("sync with daemon keys in its config: %v", err)
	}
	bad := writeConfig(t, "lease-tll: 5s\n")
	_, _, err = execute(t, nil, "status", "--config", bad)
	if err == nil || !strings.Contains(err.Error(), `key "lease-tll" is unknown`) {
		t.Errorf("a key no command knows: %v", err)
	}
	// The daemon reads what status ignored.
	_, _, err = execute(t, map[string]string{"VPCROUTE_LEASE_TTL": "not a duration"}, "daemon", "--config", cfg)
	if err == nil || !strings.Contains(err.Error(), `VPCROUTE_LEASE_TTL: lease-ttl "not a duration" is invalid`) {
		t.Errorf("daemon with a bad VPCROUTE_LEASE_TTL: %v", err)
	}
}

// TestFlagOfAnotherCommand: a flag the command does not take is bad input
// naming the commands that do.
func TestFlagOfAnotherCommand(t *testing.T) {
	_, _, err := execute(t, nil, "status", "--provider", "aws")
	want := "unknown flag: --provider (vpcroute status does not take it; it is a flag of allocate, daemon, doctor, plan, sync)"
	var ue usageError
	if !errors.As(err, &ue) || err.Error() != want {
		t.Errorf("err = %v\nwant  %s", err, want)
	}
	_, _, err = execute(t, nil, "status", "--providr", "aws")
	if !errors.As(err, &ue) || err.Error() != "unknown flag: --providr" {
		t.Errorf("a flag no command has: %v", err)
	}
}

func TestCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish"} {
		out, _, err := execute(t, nil, "completion", shell)
		if err != nil || !strings.Contains(out, "vpcroute") || len(out) < 1000 {
			t.Errorf("completion %s: %v, %d bytes", shell, err, len(out))
		}
	}
	out, _, err := execute(t, nil, "__complete", "plan", "--output", "")
	if err != nil || !strings.HasPrefix(out, "text\njson\n") {
		t.Errorf("completing plan -o: %v %q", err, out)
	}
	out, _, err = execute(t, nil, "__complete", "sync", "--provider", "")
	if err != nil || !strings.HasPrefix(out, "aliyun\naws\n") {
		t.Errorf("completing --provider: %v %q", err, out)
	}
}

// TestExampleConfigServesEveryCommand: deploy/config.example.yaml with
// every key uncommented is a valid config for sync and status alike.
func TestExampleConfigServesEveryCommand(t *testing.T) {
	b, err := os.ReadFile("../../deploy/config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	keys := 0
	for _, l := range strings.Split(string(b), "\n") {
		if k, _, ok := strings.Cut(strings.TrimPrefix(l, "# "), ": "); ok && !strings.ContainsAny(k, " /") {
			lines = append(lines, strings.TrimPrefix(l, "# "))
			keys++
		}
	}
	if keys < 20 {
		t.Fatalf("found %d keys in the example", keys)
	}
	cfg := writeConfig(t, strings.Join(lines, "\n")+"\n")
	_, _, err = execute(t, nil, "status", "--config", cfg, "-o", "yaml")
	if err == nil || err.Error() != `output "yaml" is invalid: expected text or json` {
		t.Errorf("status: %v", err)
	}
	_, _, err = execute(t, nil, "sync", "--config", cfg, "--cluster-cidr", "10.0.0/8")
	if err == nil || !strings.HasPrefix(err.Error(), `cluster-cidr "10.0.0/8" is invalid`) {
		t.Errorf("sync: %v", err)
	}
}
