package main

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// gitRepo asks git about the checkout at dir.
type gitRepo struct{ dir string }

func (g gitRepo) run(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = g.dir
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = strings.TrimSpace(string(ee.Stderr))
		}
		return "", fmt.Errorf("git %s in %s: %w %s", strings.Join(args, " "), g.dir, err, stderr)
	}
	return strings.TrimSpace(string(out)), nil
}

// head is the commit checked out.
func (g gitRepo) head(ctx context.Context) (string, error) { return g.run(ctx, "rev-parse", "HEAD") }

// headTime is HEAD's commit time in seconds since 1970.
func (g gitRepo) headTime(ctx context.Context) (string, error) {
	return g.run(ctx, "log", "-1", "--format=%ct", "HEAD")
}

// changes lists uncommitted changes, untracked files included (ignored
// ones, such as dist/, are not).
func (g gitRepo) changes(ctx context.Context) (string, error) {
	return g.run(ctx, "status", "--porcelain")
}
