// Command testsummary runs `go test -json` (or reads its output on stdin)
// and prints what plain `go test` would, then one line counting the tests
// that passed, were skipped and failed, naming every skipped test with its
// reason: a run where tests skipped must not look like a run where they
// passed. It exits 1 if a test or package failed or the command did.
//
//	testsummary [-trim PREFIX] [-- go test -json ./...]
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
)

func main() {
	trim := flag.String("trim", "", "cut this prefix from package paths in the summary")
	flag.Parse()
	os.Exit(run(*trim, flag.Args(), os.Stdin, os.Stdout, os.Stderr))
}

// run reads events from the command argv (stdin when argv is empty),
// prints to out and returns the exit status.
func run(trim string, argv []string, stdin io.Reader, out, errOut io.Writer) int {
	in := stdin
	var cmd *exec.Cmd
	if len(argv) > 0 {
		cmd = exec.Command(argv[0], argv[1:]...)
		cmd.Stdin, cmd.Stderr = stdin, errOut
		pipe, err := cmd.StdoutPipe()
		if err != nil {
			fmt.Fprintf(errOut, "testsummary: %v\n", err)
			return 2
		}
		if err := cmd.Start(); err != nil {
			fmt.Fprintf(errOut, "testsummary: %v\n", err)
			return 2
		}
		in = pipe
	}
	s := NewSummary(trim)
	events := 0
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Action == "" {
			fmt.Fprintln(out, sc.Text()) // not an event: pass it on
			continue
		}
		events++
		fmt.Fprint(out, s.Add(e))
	}
	fmt.Fprint(out, s.Flush())
	readErr := sc.Err()
	var cmdErr error
	if cmd != nil {
		if readErr != nil {
			_, _ = io.Copy(io.Discard, in) // let the command finish
		}
		cmdErr = cmd.Wait()
	}
	fmt.Fprint(out, s.Final())
	switch {
	case readErr != nil:
		fmt.Fprintf(errOut, "testsummary: reading test events: %v\n", readErr)
		return 1
	case s.Failed():
		return 1
	case cmdErr != nil:
		var ee *exec.ExitError
		if errors.As(cmdErr, &ee) {
			fmt.Fprintf(out, "testsummary: %s exited with status %d\n", argv[0], ee.ExitCode())
		} else {
			fmt.Fprintf(errOut, "testsummary: %v\n", cmdErr)
		}
		return 1
	case events == 0:
		fmt.Fprintln(errOut, "testsummary: no test events read (want the output of go test -json)")
		return 1
	}
	return 0
}
