// Command release builds vpcroute's release artifacts into a directory
// (dist/ by default): for each architecture a tarball
// (vpcroute_<v>_linux_<arch>.tar.gz: the binary, LICENSE, README,
// CHANGELOG and deploy/) and a Debian package (vpcroute_<v>_<arch>.deb),
// and SHA256SUMS over them. Binaries are static, stripped and reproducible:
// two builds of one commit give the same bytes. `make release VERSION=x.y.z`
// runs it from the module root; it publishes nothing.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/vpcroute/vpcroute/internal/gobuild"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := mainErr(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "release: "+err.Error())
		os.Exit(1)
	}
}

// mainErr reads the command line, checks the checkout and builds.
func mainErr(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	raw, err := parseFlags(args, getenv, stderr)
	if err != nil {
		return err
	}
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	moduleDir, err := gobuild.ModuleDir(ctx, wd)
	if err != nil {
		return err
	}
	git := gitRepo{dir: moduleDir}
	o, err := raw.validate(func() (string, error) { return git.head(ctx) }, func() (string, error) { return git.headTime(ctx) })
	if err != nil {
		return err
	}
	if !o.AllowDirty {
		changes, err := git.changes(ctx)
		if err != nil {
			return err
		}
		if changes != "" {
			return fmt.Errorf("the work tree has uncommitted changes (%s), so the release would not be commit %s: commit them, or pass -allow-dirty for a trial build", summarize(changes), o.Commit)
		}
	}
	if !filepath.IsAbs(o.OutDir) {
		o.OutDir = filepath.Join(wd, o.OutDir)
	}
	return run(ctx, moduleDir, o, stdout)
}

// summarize puts git status --porcelain's lines on one line, the first
// few of them.
func summarize(porcelain string) string {
	lines := strings.Split(porcelain, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	const most = 5
	if len(lines) > most {
		return strings.Join(lines[:most], "; ") + fmt.Sprintf("; and %d more", len(lines)-most)
	}
	return strings.Join(lines, "; ")
}
