package gobuild

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestArgs(t *testing.T) {
	for _, tc := range []struct {
		opts Options
		want []string
	}{
		{Options{}, []string{"build", "-o", "/bin/", "./cmd/a", "./cmd/b"}},
		{Options{Race: true}, []string{"build", "-race", "-o", "/bin/", "./cmd/a", "./cmd/b"}},
		{Options{Trimpath: true, Tags: []string{"a", "b"}, LDFlags: "-s -w", Env: []string{"GOOS=linux"}},
			[]string{"build", "-trimpath", "-tags", "a,b", "-ldflags", "-s -w", "-o", "/bin/", "./cmd/a", "./cmd/b"}},
	} {
		if got := tc.opts.Args("/bin", "./cmd/a", "./cmd/b"); !slices.Equal(got, tc.want) {
			t.Errorf("%+v: %q, want %q", tc.opts, got, tc.want)
		}
	}
}

func TestModuleDirAndErrors(t *testing.T) {
	ctx := context.Background()
	mod, err := ModuleDir(ctx, ".")
	if err != nil || !filepath.IsAbs(mod) || !fileExists(filepath.Join(mod, "go.mod")) {
		t.Fatalf("ModuleDir(.) = %q, %v", mod, err)
	}
	if _, err := ModuleDir(ctx, t.TempDir()); err == nil || !strings.Contains(err.Error(), "not inside a Go module") {
		t.Errorf("ModuleDir outside a module: %v", err)
	}
	if err := Build(ctx, mod, t.TempDir(), Options{}); err == nil || !strings.Contains(err.Error(), "no packages named") {
		t.Errorf("Build without packages: %v", err)
	}
	err = Build(ctx, mod, t.TempDir(), Options{}, "./no/such/package")
	if err == nil || !strings.Contains(err.Error(), "go build -o") || !strings.Contains(err.Error(), "no/such/package") {
		t.Errorf("Build of a missing package: %v", err)
	}
	// The added environment reaches the go tool, and its error names it.
	err = Build(ctx, mod, t.TempDir(), Options{Env: []string{"GOOS=plan10"}}, "./internal/gobuild")
	if err == nil || !strings.Contains(err.Error(), "GOOS=plan10 go build") || !strings.Contains(err.Error(), "plan10") {
		t.Errorf("Build with GOOS=plan10: %v", err)
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// TestReleaseTagsAreTheMakefiles: `make build` and the benchmarks that
// measure the binary as released build it with the same tags.
func TestReleaseTagsAreTheMakefiles(t *testing.T) {
	mod, err := ModuleDir(context.Background(), ".")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(mod, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	var tags []string
	found := false
	for _, line := range strings.Split(string(raw), "\n") {
		name, val, ok := strings.Cut(line, ":=")
		if ok && strings.TrimSpace(name) == "TAGS" {
			tags, found = strings.Split(strings.TrimSpace(val), ","), true
		}
	}
	if !found {
		t.Fatal("the Makefile sets no TAGS := line")
	}
	if !slices.Equal(tags, ReleaseTags) {
		t.Errorf("the Makefile builds with tags %q, ReleaseTags are %q", tags, ReleaseTags)
	}
	if opts := Released(); !opts.Trimpath || !slices.Equal(opts.Tags, ReleaseTags) || !slices.Contains(opts.Env, "CGO_ENABLED=0") {
		t.Errorf("Released() = %+v: want -trimpath, ReleaseTags and CGO_ENABLED=0, as make build", opts)
	}
}
