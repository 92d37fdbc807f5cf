// Package testsupport holds what the project's tests share about how they
// run: whether the race detector is on (the binaries a test starts are
// built the same way), which tests may skip (outside CI only: with CI=true a
// test that cannot run fails), and the check that a child process reported
// no data race. Only tests import it.
package testsupport
