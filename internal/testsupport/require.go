package testsupport

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"
)

// InCI reports whether the tests run in CI (CI=true, as .ci/run and most
// CI services set it). There every test must run: a missing privilege or
// tool is a broken CI machine, not a reason to report green.
func InCI() bool {
	v, err := strconv.ParseBool(os.Getenv("CI"))
	return err == nil && v
}

// SkipIfShort skips t under -short (`make unit`): what needs root,
// namespaces, dockerd, etcd or the project's processes is left out, so
// that the short run is safe and fast anywhere, CI included.
func SkipIfShort(t testing.TB, what string) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: " + what)
	}
}

// RequireRoot skips t unless the process is root; in CI it fails t instead.
// why says what the test needs root for. Under -short it always skips.
func RequireRoot(t testing.TB, why string) {
	t.Helper()
	SkipIfShort(t, "needs root: "+why)
	if os.Geteuid() != 0 {
		cannotRun(t, "needs root: "+why)
	}
}

// RequireTool skips t unless the program name is in PATH; in CI it fails
// t instead.
func RequireTool(t testing.TB, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		cannotRun(t, fmt.Sprintf("needs %s in PATH (make deps installs it): %v", name, err))
	}
}

// cannotRun skips t, or fails it in CI.
func cannotRun(t testing.TB, msg string) {
	t.Helper()
	if InCI() {
		t.Fatalf("%s (CI=true: a test that cannot run fails instead of skipping)", msg)
	}
	t.Skip(msg)
}
