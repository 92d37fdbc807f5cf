//go:build genman

package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// Built with -tags genman only, as gen-man is: make test runs it in a
// second go test (the Makefile's test target).

// TestGenMan: the hidden gen-man writes one page per command, with every
// flag the command takes, the same bytes for the same SOURCE_DATE_EPOCH.
func TestGenMan(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "1767225600") // 2026-01-01
	dirs := []string{filepath.Join(t.TempDir(), "a", "man8"), filepath.Join(t.TempDir(), "b")}
	for _, dir := range dirs {
		if _, _, err := execute(t, nil, "gen-man", dir); err != nil {
			t.Fatal(err)
		}
	}
	for _, page := range []string{"vpcroute.8", "vpcroute-sync.8", "vpcroute-plan.8", "vpcroute-daemon.8", "vpcroute-options.8", "vpcroute-completion-bash.8"} {
		a, err := os.ReadFile(filepath.Join(dirs[0], page))
		if err != nil {
			t.Errorf("%s: %v", page, err)
			continue
		}
		if b, _ := os.ReadFile(filepath.Join(dirs[1], page)); !bytes.Equal(a, b) {
			t.Errorf("%s differs between two runs", page)
		}
		if !bytes.HasPrefix(a, []byte(".nh\n.TH ")) || !bytes.Contains(a, []byte("Jan 2026")) {
			t.Errorf("%s: no man header of Jan 2026:\n%.200s", page, a)
		}
	}
	sync, _ := os.ReadFile(filepath.Join(dirs[0], "vpcroute-sync.8"))
	for _, f := range []string{`\fB--remove\fP`, `\fB--etcd-endpoints\fP`, `\fB--endpoint\fP`} {
		if !bytes.Contains(sync, []byte(f)) {
			t.Errorf("vpcroute-sync.8 lacks %s", f)
		}
	}
	if _, err := os.Stat(filepath.Join(dirs[0], "vpcroute-gen-man.8")); err == nil {
		t.Error("gen-man wrote a page for itself")
	}
	// Without DIR it is bad input (exit 2), as for any other command.
	var usage usageError
	if _, _, err := execute(t, nil, "gen-man"); !errors.As(err, &usage) || err.Error() != "vpcroute gen-man: accepts 1 arg(s), received 0" {
		t.Errorf("gen-man without DIR: %v, want a usage error", err)
	}
}
