package procstop

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// child starts a shell script that prints "ready" once its signal
// dispositions are set, and returns it with the channel closed when it has
// been waited for.
func child(t *testing.T, script string) (*exec.Cmd, <-chan struct{}) {
	t.Helper()
	cmd := exec.Command("sh", "-c", script)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("child said %q, %v", line, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })
	return cmd, exited
}

const (
	obeys   = `echo ready; exec sleep 600`
	ignores = `trap "" TERM; echo ready; exec sleep 600` // SIG_IGN survives exec
)

func TestStop(t *testing.T) {
	for _, tc := range []struct {
		name      string
		script    string
		sig       os.Signal
		grace     time.Duration
		before    func(*exec.Cmd, <-chan struct{}) // done to the child first
		wantErr   string
		wantKill  bool
		wantDeath syscall.Signal // what ended the child; 0: ended by itself
	}{
		{name: "ends on SIGTERM", script: obeys, sig: syscall.SIGTERM, grace: time.Minute, wantDeath: syscall.SIGTERM},
		{name: "ignores SIGTERM: killed after grace", script: ignores, sig: syscall.SIGTERM, grace: 10 * time.Millisecond,
			wantErr: "did not stop within 10ms after SIGTERM; killed", wantKill: true, wantDeath: syscall.SIGKILL},
		{name: "SIGKILL waits without grace", script: ignores, sig: os.Kill, grace: 0, wantDeath: syscall.SIGKILL},
		{name: "SIGINT named", script: `trap "" INT; echo ready; exec sleep 600`, sig: os.Interrupt, grace: time.Millisecond,
			wantErr: "did not stop within 1ms after SIGINT; killed", wantKill: true, wantDeath: syscall.SIGKILL},
		{name: "already ended: nothing sent", script: `echo ready`, sig: syscall.SIGTERM, grace: 0,
			before: func(_ *exec.Cmd, exited <-chan struct{}) { <-exited }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd, exited := child(t, tc.script)
			if tc.before != nil {
				tc.before(cmd, exited)
			}
			err := Stop(cmd.Process, exited, tc.sig, tc.grace)
			if got := errText(err); got != tc.wantErr {
				t.Fatalf("Stop = %q; want %q", got, tc.wantErr)
			}
			if errors.Is(err, ErrKilled) != tc.wantKill {
				t.Errorf("errors.Is(%v, ErrKilled) = %v; want %v", err, !tc.wantKill, tc.wantKill)
			}
			select {
			case <-exited:
			default:
				t.Fatal("Stop returned before the child was waited for")
			}
			ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
			switch {
			case tc.wantDeath == 0 && (ws.Signaled() || ws.ExitStatus() != 0):
				t.Errorf("child ended with %v; want exit 0", ws)
			case tc.wantDeath != 0 && (!ws.Signaled() || ws.Signal() != tc.wantDeath):
				t.Errorf("child ended with %v; want killed by %v", cmd.ProcessState, tc.wantDeath)
			}
		})
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
