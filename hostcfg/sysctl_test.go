package hostcfg

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeProcSys makes a sysctl tree in a temp dir with ip_forward set to v.
func fakeProcSys(t *testing.T, v string) string {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "net", "ipv4")
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(p, "ip_forward"), []byte(v), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestEnsureIPForward(t *testing.T) {
	tests := []struct {
		before      string
		wantChanged bool
	}{
		{"0\n", true},
		{"1\n", false},
		{"1", false},
	}
	for _, tt := range tests {
		dir := fakeProcSys(t, tt.before)
		changed, err := EnsureIPForward(dir)
		if err != nil {
			t.Fatalf("EnsureIPForward(%q) error = %v", tt.before, err)
		}
		if changed != tt.wantChanged {
			t.Errorf("EnsureIPForward(%q) changed = %v, want %v", tt.before, changed, tt.wantChanged)
		}
		got, err := readSysctl(dir, sysctlIPForward)
		if err != nil || got != "1" {
			t.Errorf("after EnsureIPForward(%q): ip_forward = %q, %v; want 1", tt.before, got, err)
		}
		again, err := EnsureIPForward(dir)
		if err != nil || again {
			t.Errorf("second EnsureIPForward = %v, %v; want no change", again, err)
		}
	}
}

func TestEnsureIPForwardMissingTree(t *testing.T) {
	dir := t.TempDir()
	_, err := EnsureIPForward(dir)
	if err == nil || !strings.Contains(err.Error(), "read sysctl net.ipv4.ip_forward") {
		t.Fatalf("EnsureIPForward(empty dir) = %v; want a read error naming the sysctl", err)
	}
	if _, serr := os.Stat(filepath.Join(dir, "net")); !os.IsNotExist(serr) {
		t.Errorf("EnsureIPForward created files in a wrong ProcSys: %v", serr)
	}
}

func TestStateDir(t *testing.T) {
	d := stateDir(filepath.Join(t.TempDir(), "nested", "state"))
	if v, ok, err := d.read("k"); err != nil || ok || v != "" {
		t.Fatalf("read absent = %q, %v, %v", v, ok, err)
	}
	if err := d.write("k", "DROP\n"); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := d.read("k"); err != nil || !ok || v != "DROP" {
		t.Fatalf("read = %q, %v, %v; want DROP", v, ok, err)
	}
	if err := d.remove("k"); err != nil {
		t.Fatal(err)
	}
	if err := d.remove("k"); err != nil {
		t.Fatalf("second remove: %v", err)
	}
	entries, err := os.ReadDir(string(d))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("left behind %s", e.Name())
	}
}
