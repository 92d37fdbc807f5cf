package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"
)

// cmdSpec is one external command. Commands always run with a timeout and
// their output is kept for the error message.
type cmdSpec struct {
	name    string
	args    []string
	stdin   io.Reader
	env     []string // nil: inherit
	timeout time.Duration
	// display replaces the argument list in errors when it holds something
	// that must not be shown.
	display string
}

// CmdError is a failed command: the command line, its exit code and output.
type CmdError struct {
	Cmd      string
	ExitCode int // -1 when the command did not run or was killed
	Output   string
	Err      error
}

// Error puts the command, the cause and the end of its output on one line
// (output lines joined with " | ") so a failing test says why at once.
func (e *CmdError) Error() string {
	out := strings.TrimSpace(e.Output)
	if out == "" {
		return fmt.Sprintf("%s: %v (no output)", e.Cmd, e.Err)
	}
	return fmt.Sprintf("%s: %v: %s", e.Cmd, e.Err, strings.ReplaceAll(out, "\n", " | "))
}

// Unwrap returns the underlying exec error.
func (e *CmdError) Unwrap() error { return e.Err }

// exitCode returns the exit code of a *CmdError, or -1.
func exitCode(err error) int {
	var ce *CmdError
	if errors.As(err, &ce) {
		return ce.ExitCode
	}
	return -1
}

// maxErrOutput bounds the output kept in an error: the end of the output
// is where commands say what went wrong.
const maxErrOutput = 4000

// run executes the command and returns its stdout. On failure the error
// holds stderr and stdout.
func run(ctx context.Context, c cmdSpec) (string, error) {
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, c.name, c.args...)
	cmd.Stdin = c.stdin
	cmd.Env = c.env
	// A killed command's children may hold the pipes open; do not wait
	// for them forever.
	cmd.WaitDelay = 2 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	err := cmd.Run()
	if err == nil {
		return stdout.String(), nil
	}
	display := c.display
	if display == "" {
		display = strings.Join(append([]string{c.name}, c.args...), " ")
	}
	out := stderr.String()
	if stdout.Len() > 0 {
		out = stdout.String() + "\n" + out
	}
	if len(out) > maxErrOutput {
		out = "…" + out[len(out)-maxErrOutput:]
	}
	code := -1
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	}
	if ctx.Err() != nil {
		err = fmt.Errorf("%w (timeout %s)", ctx.Err(), c.timeout)
	}
	return stdout.String(), &CmdError{Cmd: display, ExitCode: code, Output: out, Err: err}
}

// nsPath is where `ip netns add` binds a named namespace.
func nsPath(netns string) string { return "/var/run/netns/" + netns }
