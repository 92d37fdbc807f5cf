// Package gobuild builds this module's commands with the go tool: the lab
// demo runs what it builds, the tests that run vpcroute and vpcroute-sim as
// processes build them the same way, and so does the release builder.
package gobuild

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// ModuleDir returns the root of the Go module containing dir (the vpcroute
// checkout when run from inside it).
func ModuleDir(ctx context.Context, dir string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "env", "GOMOD")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD in %s: %w", dir, err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == "/dev/null" {
		return "", fmt.Errorf("go env GOMOD in %s: not inside a Go module (run from the vpcroute checkout)", dir)
	}
	return filepath.Dir(mod), nil
}

// Options are the build's flags.
type Options struct {
	// Race builds with the race detector: a test binary built with -race
	// runs the processes it starts with it too.
	Race bool
	// Trimpath leaves file system paths out of the binary (-trimpath).
	Trimpath bool
	// Tags are build tags (-tags).
	Tags []string
	// LDFlags are the linker's flags (-ldflags).
	LDFlags string
	// Env is added to the go tool's environment, after the process's own
	// (GOOS=linux, CGO_ENABLED=0).
	Env []string
}

// ReleaseTags are the build tags of vpcroute as it ships: `make build`
// (the Makefile's TAGS), `make release` and the .deb. grpcnotrace leaves
// out grpc's golang.org/x/net/trace, whose /debug/requests pages run
// html/template: a template executes methods by name, so with it linked
// the linker keeps every exported method of every reachable type (the
// 88 MB binary of issue 13).
var ReleaseTags = []string{"grpcnotrace"}

// Released are the options of `make build`: static (CGO_ENABLED=0),
// without file system paths, with ReleaseTags. What the agent costs on a
// host is measured on this build (cmd/vpcroute's BenchmarkDaemonIdle).
func Released() Options {
	return Options{Trimpath: true, Tags: ReleaseTags, Env: []string{"CGO_ENABLED=0"}}
}

// Args are the go tool's arguments for building pkgs into outDir.
func (o Options) Args(outDir string, pkgs ...string) []string {
	args := []string{"build"}
	if o.Race {
		args = append(args, "-race")
	}
	if o.Trimpath {
		args = append(args, "-trimpath")
	}
	if len(o.Tags) > 0 {
		args = append(args, "-tags", strings.Join(o.Tags, ","))
	}
	if o.LDFlags != "" {
		args = append(args, "-ldflags", o.LDFlags)
	}
	args = append(args, "-o", outDir+"/")
	return append(args, pkgs...)
}

// Build runs `go build -o outDir/ pkgs...` in moduleDir (pkgs relative to
// it, such as ./cmd/vpcroute, or import paths); the error holds the go
// tool's output.
func Build(ctx context.Context, moduleDir, outDir string, opts Options, pkgs ...string) error {
	if len(pkgs) == 0 {
		return fmt.Errorf("go build in %s: no packages named", moduleDir)
	}
	args := opts.Args(outDir, pkgs...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = moduleDir
	if len(opts.Env) > 0 {
		cmd.Env = append(os.Environ(), opts.Env...)
	}
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%sgo %s in %s: %w: %s", envPrefix(opts.Env), strings.Join(args, " "), moduleDir, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// envPrefix shows the added environment in an error as a shell would.
func envPrefix(env []string) string {
	if len(env) == 0 {
		return ""
	}
	return strings.Join(env, " ") + " "
}
