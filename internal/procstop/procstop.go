// Package procstop ends a child process: a signal, a grace period, then
// SIGKILL. The lab, the test namespaces' dockerd, the test etcd and the
// process tests stop their children with it.
//
// It is a leaf: it imports nothing of vpcroute.
package procstop

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// ErrKilled is wrapped by Stop's error when the process outlived its grace
// period and was killed.
var ErrKilled = errors.New("killed")

// Stop sends sig to p and waits up to grace for exited to close; if it has
// not, it kills p and waits for exited. exited is closed by whoever waits
// for the process (the goroutine calling cmd.Wait), so that the exit
// status stays the caller's. With sig os.Kill (SIGKILL) it waits for
// exited without a deadline, since nothing can outlive that.
//
// It returns nil when the process had already ended or ends within grace;
// an error wrapping ErrKilled ("did not stop within 10s after SIGTERM;
// killed") when it had to be killed; the signal's error, without waiting,
// when sig or SIGKILL could not be sent. A process that ends while it is being
// signalled is not an error.
func Stop(p *os.Process, exited <-chan struct{}, sig os.Signal, grace time.Duration) error {
	select {
	case <-exited:
		return nil
	default:
	}
	if err := p.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("send %s: %w", signalName(sig), err)
	}
	if sig == os.Kill {
		<-exited
		return nil
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-exited:
		return nil
	case <-t.C:
	}
	if err := p.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("did not stop within %s after %s, and SIGKILL failed: %w", grace, signalName(sig), err)
	}
	<-exited
	return fmt.Errorf("did not stop within %s after %s; %w", grace, signalName(sig), ErrKilled)
}

// signalName is "SIGTERM" rather than Go's "terminated".
func signalName(sig os.Signal) string {
	if s, ok := sig.(syscall.Signal); ok {
		if name := unix.SignalName(s); name != "" {
			return name
		}
	}
	return sig.String()
}
