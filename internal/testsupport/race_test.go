package testsupport

import (
	"runtime/debug"
	"testing"
)

// TestRaceMatchesBuild: Race says what the go tool recorded about this
// test binary, so binaries built with Race match how the tests run.
func TestRaceMatchesBuild(t *testing.T) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		t.Fatal("no build info in the test binary")
	}
	built := false
	for _, s := range info.Settings {
		if s.Key == "-race" && s.Value == "true" {
			built = true
		}
	}
	if Race != built {
		t.Errorf("Race = %v, but the test binary was built with -race=%v", Race, built)
	}
}
