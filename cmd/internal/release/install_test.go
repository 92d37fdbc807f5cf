package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vpcroute/vpcroute/internal/testsupport"
)

// TestMakeInstall runs `make install` into a DESTDIR twice: the binary, its
// man pages and the unit starting it from PREFIX, the example config only
// the first time.
func TestMakeInstall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds vpcroute (-short)")
	}
	testsupport.RequireTool(t, "make")
	mod := moduleRoot(t)
	dest, bin := t.TempDir(), t.TempDir()
	install := func() string {
		t.Helper()
		cmd := exec.Command("make", "-s", "install", "DESTDIR="+dest, "BIN="+bin, "PREFIX=/opt/vpcroute")
		cmd.Dir = mod
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("make install: %v\n%s", err, out)
		}
		return string(out)
	}
	install()

	out, err := exec.Command(filepath.Join(dest, "opt/vpcroute/bin/vpcroute"), "version").CombinedOutput()
	if err != nil {
		t.Fatalf("installed vpcroute version: %v\n%s", err, out)
	}
	head, err := gitRepo{dir: mod}.head(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "\ncommit:   "+head+"\n") {
		t.Errorf("installed vpcroute version does not name HEAD %s:\n%s", head, out)
	}
	unit, err := os.ReadFile(filepath.Join(dest, "opt/vpcroute/lib/systemd/system/vpcroute.service"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(unit), "\nExecStart=/opt/vpcroute/bin/vpcroute daemon ") || strings.Contains(string(unit), "\nExecStart=/usr/local/") {
		t.Errorf("installed unit does not start /opt/vpcroute/bin/vpcroute:\n%s", unit)
	}
	allocate, err := os.ReadFile(filepath.Join(dest, "opt/vpcroute/lib/systemd/system/vpcroute-allocate.service"))
	if err != nil || !strings.Contains(string(allocate), "\nExecStart=/opt/vpcroute/bin/vpcroute allocate ") {
		t.Errorf("installed allocate unit does not start /opt/vpcroute/bin/vpcroute (%v):\n%s", err, allocate)
	}
	for _, page := range []string{"vpcroute.8", "vpcroute-daemon.8", "vpcroute-sync.8"} {
		b, err := os.ReadFile(filepath.Join(dest, "opt/vpcroute/share/man/man8", page))
		if err != nil || !bytes.HasPrefix(b, []byte(".nh\n.TH ")) {
			t.Errorf("make install: no man page %s in PREFIX/share/man/man8 (%v)", page, err)
		}
	}
	config := filepath.Join(dest, "etc/vpcroute/config.yaml")
	example, err := os.ReadFile(filepath.Join(mod, "deploy/config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(config)
	if err != nil || !bytes.Equal(got, example) {
		t.Fatalf("config.yaml is not the example: %v", err)
	}
	if st, _ := os.Stat(config); st.Mode().Perm() != 0o600 {
		t.Errorf("config.yaml mode %v, want 0600 (it may hold the etcd password)", st.Mode().Perm())
	}

	// The operator's config survives a second install.
	mine := []byte("provider: aws\ncluster-name: mine\n")
	if err := os.WriteFile(config, mine, 0o600); err != nil {
		t.Fatal(err)
	}
	if out := install(); !strings.Contains(out, "kept "+config) {
		t.Errorf("second install did not say it kept the config:\n%s", out)
	}
	if got, _ := os.ReadFile(config); !bytes.Equal(got, mine) {
		t.Errorf("second install replaced the operator's config:\n%s", got)
	}
}
