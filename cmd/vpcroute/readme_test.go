package main

import (
	"bytes"
	"flag"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// readmePath is the README the check reads; -readme points it at a copy
// (go test -run Readme ./cmd/vpcroute/ -args -readme /tmp/README.md).
var readmePath = flag.String("readme", "../../README.md", "README to check against the CLI")

// repoRoot is the repository, seen from this package's directory.
const repoRoot = "../.."

// TestReadmeMatchesCLI: the README documents exactly the flags, commands,
// variables and config keys the CLI defines (readmeDrift says how).
func TestReadmeMatchesCLI(t *testing.T) {
	b, err := os.ReadFile(*readmePath)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range readmeDrift(string(b), gatherCLIFacts(t)) {
		t.Error(d)
	}
}

// TestReadmeCheckCatchesDrift: each kind of drift, made in a copy of the
// README, is reported, naming what drifted.
func TestReadmeCheckCatchesDrift(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme, cli := string(b), gatherCLIFacts(t)
	// Drift the README has already is TestReadmeMatchesCLI's to report:
	// here only a line the edit added counts.
	before := map[string]bool{}
	for _, d := range readmeDrift(readme, cli) {
		before[d] = true
	}
	row := func(flag string) *regexp.Regexp { return regexp.MustCompile("(?m)^\\| `--" + flag + "` \\|.*\n") }
	tests := []struct {
		name, want string
		edit       func(string) string
	}{
		{"a flag row removed", "--lease-ttl (a flag of daemon) has no row",
			func(s string) string { return row("lease-ttl").ReplaceAllString(s, "") }},
		{"a provider's flag row removed", "--ram-role (a flag of allocate, daemon, doctor, plan, sync) has no row",
			func(s string) string { return row("ram-role").ReplaceAllString(s, "") }},
		{"a flag invented in the reference", "--lease-jitter is no flag of any command",
			func(s string) string {
				return strings.Replace(s, "| `--debounce` |", "| `--lease-jitter` | `1s` | made up |\n| `--debounce` |", 1)
			}},
		{"a flag invented in an example", "vpcroute sync takes no --dry-run",
			func(s string) string {
				return strings.Replace(s, "vpcroute sync --cluster-cidr 10.0.0.0/8 --cluster-name prod\n", "vpcroute sync --dry-run --cluster-cidr 10.0.0.0/8\n", 1)
			}},
		{"a daemon flag given to sync", "vpcroute sync takes no --lease-ttl",
			func(s string) string {
				return strings.Replace(s, "vpcroute sync --cluster-cidr 10.0.0.0/8 --cluster-name prod\n", "vpcroute sync --lease-ttl 5s \\\n  --cluster-cidr 10.0.0.0/8\n", 1)
			}},
		{"a simulator flag invented", "vpcroute-sim takes no --port",
			func(s string) string {
				return strings.Replace(s, "vpcroute-sim --listen 127.0.0.1:8080", "vpcroute-sim --port 8080", 1)
			}},
		{"a default changed", `--lease-ttl defaults to "10s", the README says "15s"`,
			func(s string) string {
				return strings.Replace(s, "| `--lease-ttl` | `10s` |", "| `--lease-ttl` | `15s` |", 1)
			}},
		{"a variable invented", "VPCROUTE_LEASE_JITTER, which is no flag's variable",
			func(s string) string {
				return strings.Replace(s, "`VPCROUTE_ETCD_PASSWORD`", "`VPCROUTE_LEASE_JITTER`", 1)
			}},
		{"the derivation misstated", "README derives VPCROUTE_CLUSTERCIDR from --cluster-cidr",
			func(s string) string {
				return strings.Replace(s, "→ `VPCROUTE_CLUSTER_CIDR`", "→ `VPCROUTE_CLUSTERCIDR`", 1)
			}},
		{"a config key invented", `config key "etcd-pass"`,
			func(s string) string {
				return strings.Replace(s, "config key `etcd-password`", "config key `etcd-pass`", 1)
			}},
		{"a command listed that the CLI lacks", "README lists",
			func(s string) string {
				return strings.Replace(s, "| `vpcroute version` |", "| `vpcroute upgrade` | upgrade | 0 |\n| `vpcroute version` |", 1)
			}},
		{"a command missing from the list", "README lists",
			func(s string) string {
				return regexp.MustCompile("(?m)^\\| `vpcroute cleanup` \\|.*\n").ReplaceAllString(s, "")
			}},
		{"a shell missing from completion", "vpcroute completion lists",
			func(s string) string {
				return strings.Replace(s, "`vpcroute completion bash\\|zsh\\|fish\\|powershell`", "`vpcroute completion bash\\|zsh`", 1)
			}},
		{"a make target that is none", "the Makefile has no target tests",
			func(s string) string { return strings.Replace(s, "make test   # lint", "make tests  # lint", 1) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			edited := tt.edit(readme)
			if edited == readme {
				t.Fatal("the edit matched nothing in the README: update the test")
			}
			drift := readmeDrift(edited, cli)
			found := false
			for _, d := range drift {
				found = found || (!before[d] && strings.Contains(d, tt.want))
			}
			if !found {
				t.Errorf("drift not reported: want a line containing %q, got %q", tt.want, drift)
			}
		})
	}
}

// gatherCLIFacts reads the CLI's own definitions: the command tree with the
// providers vpcroute is built with, vpcroute-sim's flags and the Makefile.
func gatherCLIFacts(t *testing.T) cliFacts {
	t.Helper()
	root := newRootCommand(&bytes.Buffer{}, &bytes.Buffer{}, env(nil))
	cli := cliFacts{
		flags: map[string]map[string]bool{}, deprecated: map[string]bool{}, defaults: map[string][]flagDefault{},
		subcommands: map[string][]string{}, hiddenCommands: map[string]bool{},
		commands: commandNames(root),
		fileHas: func(path, text string) bool {
			b, err := os.ReadFile(filepath.Join(repoRoot, path))
			return err == nil && bytes.Contains(b, []byte(text))
		},
	}
	for _, c := range root.Commands() {
		if !c.IsAvailableCommand() {
			cli.hiddenCommands[c.Name()] = true
			continue
		}
		if c.HasAvailableSubCommands() {
			cli.subcommands[c.Name()] = commandNames(c)
		}
		fs := map[string]bool{}
		for _, cc := range append([]*cobra.Command{c}, c.Commands()...) {
			cc.Flags().VisitAll(func(f *pflag.Flag) {
				if f.Hidden && f.Deprecated == "" {
					return // pflag hides a deprecated flag too: that one is still read
				}
				fs[f.Name] = true
				if f.Deprecated != "" {
					cli.deprecated[f.Name] = true
				}
				cli.defaults[f.Name] = append(cli.defaults[f.Name], flagDefault{f.DefValue, f.Value.Type()})
			})
		}
		cli.flags[c.Name()] = fs
	}
	cli.simFlags = simFlags(t, filepath.Join(repoRoot, "cmd/vpcroute-sim/options.go"))
	cli.makeTargets = makeTargets(t, filepath.Join(repoRoot, "Makefile"))
	return cli
}

// simFlags returns the names of the flags vpcroute-sim's options.go
// defines: the string literal naming each flag in its fs.XxxVar(...) calls.
// (vpcroute-sim is another main package: its source is what can be read.)
func simFlags(t *testing.T, path string) map[string]bool {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		if recv, ok := sel.X.(*ast.Ident); !ok || recv.Name != "fs" || len(call.Args) < 2 {
			return true
		}
		arg := call.Args[0] // fs.String("name", ...)
		if strings.HasSuffix(sel.Sel.Name, "Var") {
			arg = call.Args[1] // fs.StringVar(&v, "name", ...)
		}
		if lit, ok := arg.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			if s, err := strconv.Unquote(lit.Value); err == nil {
				names[s] = true
			}
		}
		return true
	})
	if len(names) == 0 {
		t.Fatalf("%s: no flag definitions found (fs.XxxVar(&v, \"name\", ...)): update simFlags", path)
	}
	return names
}

// makeTargets returns the targets the Makefile defines.
func makeTargets(t *testing.T, path string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	targets := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^([a-z][a-z0-9-]*):`).FindAllStringSubmatch(string(b), -1) {
		targets[m[1]] = true
	}
	return targets
}
