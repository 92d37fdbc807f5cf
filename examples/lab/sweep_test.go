package lab

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/internal/testsupport"
)

// TestSweepRefusesForeignPaths: the sweep deletes directories and kills
// processes, so it must refuse anything that is not a run's own directory.
func TestSweepRefusesForeignPaths(t *testing.T) {
	parent := t.TempDir()
	keep := filepath.Join(parent, "keep")
	if err := os.WriteFile(keep, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ id, dir string }{
		{"vrl1", parent},                    // directory not named after the run
		{"", filepath.Join(parent, "")},     // empty id
		{"a/b", filepath.Join(parent, "b")}, // id with a slash
		{"vrl1", "vrl1"},                    // relative directory
	}
	for _, tc := range tests {
		err := sweep(context.Background(), tc.id, tc.dir)
		if err == nil || exitCode(err) != 2 {
			t.Errorf("sweep(%q, %q) = %v, want refusal (exit 2)", tc.id, tc.dir, err)
		}
	}
	run := filepath.Join(parent, "vrl1")
	if err := os.Mkdir(run, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"", "x1", "h", "h123", "h1/..", "../h1", "h1 h2"} {
		if host == "" {
			continue // the whole-run sweep, tested above
		}
		err := sweepHost(context.Background(), "vrl1", run, host)
		if err == nil || exitCode(err) != 2 {
			t.Errorf("sweepHost(%q) = %v, want refusal (exit 2)", host, err)
		}
	}
	if _, err := os.Stat(keep); err != nil {
		t.Fatalf("a refused sweep removed files: %v", err)
	}
	if _, err := os.Stat(run); err != nil {
		t.Fatalf("a refused host sweep removed the run directory: %v", err)
	}
}

// TestSweepHostRemovesOnlyThatHost: the host-scoped sweep (RemoveHost)
// removes host h1's namespace, processes and directory, and leaves h0 and
// h10, whose names start alike, untouched.
func TestSweepHostRemovesOnlyThatHost(t *testing.T) {
	testsupport.RequireRoot(t, "creates network namespaces")
	id, err := newRunID("vrs")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), id)
	procs := map[string]*exec.Cmd{}
	for _, h := range []string{"h0", "h1", "h10"} {
		if err := os.MkdirAll(filepath.Join(dir, h, "sub"), 0o700); err != nil {
			t.Fatal(err)
		}
		ns := id + "-" + h
		if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
			t.Fatalf("ip netns add: %v: %s", err, out)
		}
		t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
		p := exec.Command("nsenter", "--net="+nsPath(ns), "--", "sleep", "600")
		if err := p.Start(); err != nil {
			t.Fatal(err)
		}
		if h != "h1" { // h1's process is waited for below
			t.Cleanup(func() { _ = p.Process.Kill(); _ = p.Wait() })
		}
		procs[h] = p
	}
	if err := sweepHost(context.Background(), id, dir, "h1"); err != nil {
		t.Fatalf("sweepHost: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = procs["h1"].Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Error("the process in h1's namespace survived the host sweep")
		_ = procs["h1"].Process.Kill()
		<-done
	}
	for h, want := range map[string]bool{"h0": true, "h1": false, "h10": true} {
		_, err := os.Stat(filepath.Join(dir, h))
		if got := err == nil; got != want {
			t.Errorf("directory %s exists = %v after sweeping h1, want %v", h, got, want)
		}
		_, err = os.Stat(nsPath(id + "-" + h))
		if got := err == nil; got != want {
			t.Errorf("netns %s-%s exists = %v after sweeping h1, want %v", id, h, got, want)
		}
		if want {
			if err := procs[h].Process.Signal(syscall.Signal(0)); err != nil {
				t.Errorf("the host sweep of h1 killed the process in %s's namespace: %v", h, err)
			}
		}
	}
}

// TestSweepRemovesRun: the sweep kills the processes living in the run's
// namespaces, deletes the namespaces and the directory, and leaves alone a
// process of the root namespace even when its command line names the run.
func TestSweepRemovesRun(t *testing.T) {
	testsupport.RequireRoot(t, "creates a network namespace")
	id, err := newRunID("vrs")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), id)
	if err := os.MkdirAll(filepath.Join(dir, "h0", "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	ns := id + "-h0"
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })

	inNS := exec.Command("nsenter", "--net="+nsPath(ns), "--", "sleep", "600")
	if err := inNS.Start(); err != nil {
		t.Fatal(err)
	}
	inNSDone := make(chan error, 1)
	go func() { inNSDone <- inNS.Wait() }()
	// A root-namespace process that merely mentions the run directory.
	bystander := exec.Command("sh", "-c", "sleep 600", "bystander", dir)
	if err := bystander.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = bystander.Process.Kill(); _ = bystander.Wait() })

	if err := sweep(context.Background(), id, dir); err != nil {
		t.Fatalf("sweep: %v", err)
	}
	select {
	case err := <-inNSDone:
		if ws, ok := inNS.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
			t.Errorf("process in the run's namespace ended with %v, want killed", err)
		}
	case <-time.After(5 * time.Second):
		_ = inNS.Process.Kill()
		t.Error("process in the run's namespace survived the sweep")
	}
	if err := bystander.Process.Signal(syscall.Signal(0)); err != nil {
		t.Errorf("the sweep killed a root-namespace process: %v", err)
	}
	left := Leftovers(filepath.Dir(dir), id)
	var real []string
	for _, l := range left {
		if !strings.Contains(l, "bystander") && !strings.Contains(l, "sleep 600") {
			real = append(real, l)
		}
	}
	if len(real) > 0 {
		t.Errorf("left after sweep: %v", real)
	}
}
