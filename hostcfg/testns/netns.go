// Package testns runs tests and daemons inside throw-away Linux network
// namespaces, so that nothing they do reaches the root namespace's routes,
// iptables rules or sysctls.
//
// A test that must run inside a namespace re-executes its own test binary
// there (see InFresh and (*NS).RunTest): the whole child process lives in
// the namespace, including every iptables command it runs and every
// /proc/sys/net file it opens, and the child checks that before doing
// anything. Namespaces are deleted by t.Cleanup, which also runs when a
// test fails or panics.
//
// Everything here needs root; New skips the test, with a message, when the
// process is not root (and fails it in CI).
package testns

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/internal/testsupport"
)

// NS is a named network namespace created with `ip netns add`.
type NS struct {
	// Name is the namespace's name, unique per process and call.
	Name string
	// Path is its bind mount, usable with nsenter --net=Path.
	Path string
}

// Create makes a namespace named prefix-PID-RANDOM with its loopback up.
// The caller must Delete it.
func Create(prefix string) (*NS, error) {
	var b [3]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("netns name: %w", err)
	}
	name := fmt.Sprintf("%s-%d-%s", prefix, os.Getpid(), hex.EncodeToString(b[:]))
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("ip netns add %s: %w: %s", name, err, strings.TrimSpace(string(out)))
	}
	ns := &NS{Name: name, Path: "/var/run/netns/" + name}
	if out, err := exec.Command("ip", "-n", name, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		derr := ns.Delete()
		return nil, fmt.Errorf("set lo up in %s: %w: %s (delete: %v)", name, err, strings.TrimSpace(string(out)), derr)
	}
	return ns, nil
}

// Delete removes the namespace. Processes still inside keep it alive
// until they exit, but its name is gone.
func (n *NS) Delete() error {
	if out, err := exec.Command("ip", "netns", "delete", n.Name).CombinedOutput(); err != nil {
		return fmt.Errorf("ip netns delete %s: %w: %s", n.Name, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// RequireRoot skips the test when the process is not root: network
// namespaces, iptables and dockerd all need it. In CI (CI=true) it fails
// the test instead: CI runs as root, and a skipped test there is a hole.
func RequireRoot(t testing.TB) {
	t.Helper()
	testsupport.RequireRoot(t, "creates network namespaces and runs iptables/dockerd inside them")
}

// New creates a namespace for the test and deletes it when the test ends,
// whether it passes, fails or panics.
func New(t testing.TB, prefix string) *NS {
	t.Helper()
	RequireRoot(t)
	ns, err := Create(prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ns.Delete(); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return ns
}

// Command returns a command that runs name inside the namespace, entering
// only its network namespace (nsenter --net): unlike `ip netns exec` it
// does not remount /sys, which dockerd needs.
func (n *NS) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "nsenter", append([]string{"--net=" + n.Path, "--", name}, args...)...)
}

// Output runs name inside the namespace and returns its standard output;
// the error includes standard error.
func (n *NS) Output(ctx context.Context, name string, args ...string) (string, error) {
	cmd := n.Command(ctx, name, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("%s %s in %s: %w: %s", name, strings.Join(args, " "), n.Name, err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// inode returns the inode of a namespace file, which identifies the
// namespace.
func inode(path string) (uint64, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return 0, fmt.Errorf("stat %s: %w", path, err)
	}
	return st.Ino, nil
}

// deadlineContext derives a context from the test's deadline, minus a
// margin to report a hung child before the test binary is killed.
func deadlineContext(t testing.TB) (context.Context, context.CancelFunc) {
	type deadliner interface{ Deadline() (time.Time, bool) }
	if d, ok := t.(deadliner); ok {
		if dl, ok := d.Deadline(); ok {
			return context.WithDeadline(context.Background(), dl.Add(-5*time.Second))
		}
	}
	return context.WithCancel(context.Background())
}
