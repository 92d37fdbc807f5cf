package testsupport

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestCannotRunChild is run by TestCannotRunSkipsOrFails in a child
// process; on its own it does nothing.
func TestCannotRunChild(t *testing.T) {
	if os.Getenv("TESTSUPPORT_CHILD") != "1" {
		return
	}
	RequireTool(t, "vpcroute-no-such-tool")
	t.Log("still running after a missing tool")
}

func TestCannotRunSkipsOrFails(t *testing.T) {
	for _, tc := range []struct {
		ci       string
		wantFail bool
		want     string
	}{
		{"", false, "--- SKIP: TestCannotRunChild"},
		{"false", false, "--- SKIP: TestCannotRunChild"},
		{"true", true, "--- FAIL: TestCannotRunChild"},
		{"1", true, "CI=true: a test that cannot run fails instead of skipping"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCannotRunChild$", "-test.v")
		cmd.Env = append(os.Environ(), "TESTSUPPORT_CHILD=1", "CI="+tc.ci)
		out, err := cmd.CombinedOutput()
		if failed := err != nil; failed != tc.wantFail || !strings.Contains(string(out), tc.want) {
			t.Errorf("CI=%q: error %v, want failure %v and %q:\n%s", tc.ci, err, tc.wantFail, tc.want, out)
		}
		if strings.Contains(string(out), "still running") {
			t.Errorf("CI=%q: the test went on after a missing tool:\n%s", tc.ci, out)
		}
	}
}

func TestCheckChildSeesExitStatus66(t *testing.T) {
	err := exec.Command("sh", "-c", "exit 66").Run()
	ft := &fakeT{TB: t}
	CheckChild(ft, "child", "", err)
	CheckChild(ft, "child", "==================\nWARNING: DATA RACE\nRead at 0x1 by goroutine 2:\n", nil)
	CheckChild(ft, "child", "clean output", exec.Command("sh", "-c", "exit 1").Run())
	if len(ft.errs) != 2 || !strings.Contains(ft.errs[0], "status 66") || !strings.Contains(ft.errs[1], "1 data race(s)") {
		t.Errorf("CheckChild errors %q, want one for the exit status and one for the report", ft.errs)
	}
}

// fakeT records Errorf instead of failing.
type fakeT struct {
	testing.TB
	errs []string
}

func (f *fakeT) Helper() {}

func (f *fakeT) Errorf(format string, args ...any) {
	f.errs = append(f.errs, strings.TrimSpace(fmt.Sprintf(format, args...)))
}
