package testsupport

import (
	"errors"
	"io"
	"os/exec"
	"testing"

	"github.com/vpcroute/vpcroute/internal/racecheck"
)

// WatchChild wraps w, where a child process of t writes its output, and
// fails t when the test ends if that output held a race report. Call it
// before starting the child and stop the child in a cleanup registered
// after it (cleanups run last-in first-out), so the check sees everything
// the child wrote.
func WatchChild(t testing.TB, name string, w io.Writer) io.Writer {
	t.Helper()
	rw := racecheck.NewWriter(w)
	t.Cleanup(func() {
		if n := rw.Races(); n > 0 {
			t.Errorf("%s reported %d data race(s); the first:\n%s", name, n, rw.Excerpt())
		}
	})
	return rw
}

// CheckChild fails t if a finished child's output holds a race report or
// its exit status (waitErr, the result of Wait or Run) is the race
// detector's.
func CheckChild(t testing.TB, name, output string, waitErr error) {
	t.Helper()
	if n := racecheck.Count(output); n > 0 {
		t.Errorf("%s reported %d data race(s); the first:\n%s", name, n, racecheck.Excerpt(output))
		return
	}
	var ee *exec.ExitError
	if errors.As(waitErr, &ee) && ee.ExitCode() == racecheck.ExitCode {
		t.Errorf("%s exited with status %d, the race detector's", name, racecheck.ExitCode)
	}
}
