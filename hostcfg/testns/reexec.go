package testns

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Environment variables that mark a child started by RunTest.
const (
	envPath      = "VPCROUTE_TESTNS_PATH"
	envParentIno = "VPCROUTE_TESTNS_PARENT_NETNS"
)

// InChild reports whether this process is a child started by RunTest.
func InChild() bool { return os.Getenv(envPath) != "" }

// CheckChild fails the test at once unless the process really runs inside
// the namespace its parent chose, and not in the parent's: a last guard
// before a test touches iptables or sysctls.
func CheckChild(t testing.TB) {
	t.Helper()
	want, err := inode(os.Getenv(envPath))
	if err != nil {
		t.Fatalf("testns child: %v", err)
	}
	self, err := inode("/proc/self/ns/net")
	if err != nil {
		t.Fatalf("testns child: %v", err)
	}
	parent, err := strconv.ParseUint(os.Getenv(envParentIno), 10, 64)
	if err != nil {
		t.Fatalf("testns child: %s = %q: %v", envParentIno, os.Getenv(envParentIno), err)
	}
	if self != want || self == parent {
		t.Fatalf("testns child: refusing to run: in netns %d, want %d (parent's is %d)", self, want, parent)
	}
}

// InFresh runs the rest of the calling test inside a new namespace. In the
// test process it creates the namespace, runs the test again in a child
// process inside it, reports the child's result and returns false: the
// caller returns at once. In the child it checks the namespace and returns
// true: the caller goes on with the test body.
//
//	if !testns.InFresh(t, "vrhc") {
//		return
//	}
func InFresh(t *testing.T, prefix string) bool {
	t.Helper()
	if InChild() {
		CheckChild(t)
		return true
	}
	New(t, prefix).RunTest(t)
	return false
}

// RunTest runs the current test (t.Name(), subtests included) again in a
// child process inside the namespace and fails t if the child fails, runs
// no test, or does not finish before t's deadline. The child's output is
// logged in verbose mode and included on failure.
func (n *NS) RunTest(t *testing.T) {
	t.Helper()
	RequireRoot(t)
	parent, err := inode("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := deadlineContext(t)
	defer cancel()
	args := []string{"-test.run=" + runPattern(t.Name()), "-test.v=true", "-test.count=1"}
	if dl, ok := ctx.Deadline(); ok {
		args = append(args, "-test.timeout="+time.Until(dl).Round(time.Second).String())
	}
	cmd := n.Command(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), envPath+"="+n.Path, envParentIno+"="+strconv.FormatUint(parent, 10))
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("test child in netns %s failed after %s: %v\n%s", n.Name, time.Since(start).Round(time.Millisecond), err, out)
	}
	// A pattern that matched nothing also exits 0; insist on the PASS line.
	if !strings.Contains(string(out), "--- PASS: "+t.Name()+" ") {
		t.Fatalf("test child in netns %s did not run %s:\n%s", n.Name, t.Name(), out)
	}
	if testing.Verbose() {
		t.Logf("child in netns %s:\n%s", n.Name, out)
	}
}

// runPattern anchors each element of a test name for -test.run.
func runPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}
