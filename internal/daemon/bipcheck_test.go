package daemon

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// After `vpcroute allocate` wrote a new bip, Docker runs the old subnet
// until it is restarted: the agent says so (status, one log line per
// change) and stops saying so once Docker runs the allocated subnet.
func TestAgentReportsBIPNotRunning(t *testing.T) {
	path := filepath.Join(t.TempDir(), "daemon.json")
	if err := os.WriteFile(path, []byte(`{"log-driver": "json-file", "bip": "10.1.196.1/24"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zap.InfoLevel)
	a := newAgent(Config{DockerConfig: path}, zap.New(core), nil)
	old := []netip.Prefix{netip.MustParsePrefix("172.17.0.0/16")}
	a.checkBIP(old)
	a.checkBIP(old)
	if got := a.snapshot().bipMismatch; !strings.Contains(got, "daemon.json sets bip 10.1.196.1/24 (subnet 10.1.196.0/24) but Docker runs 172.17.0.0/16") {
		t.Fatalf("bipMismatch = %q", got)
	}
	if n := logs.FilterMessage("Docker does not run the allocated subnet yet").Len(); n != 1 {
		t.Errorf("%d warnings for one state, want 1", n)
	}
	a.checkBIP([]netip.Prefix{netip.MustParsePrefix("10.1.196.0/24")})
	if got := a.snapshot().bipMismatch; got != "" {
		t.Errorf("after Docker's restart: bipMismatch = %q, want none", got)
	}
	// Not checked without a daemon.json path, nor when the file sets none.
	b := newAgent(Config{}, zap.NewNop(), nil)
	b.checkBIP(old)
	if err := os.WriteFile(path, []byte(`{}`), 0o644); err != nil {
		t.Fatal(err)
	}
	a.checkBIP(old)
	if b.snapshot().bipMismatch != "" || a.snapshot().bipMismatch != "" {
		t.Errorf("reported without a bip to compare: %q %q", b.snapshot().bipMismatch, a.snapshot().bipMismatch)
	}
}
