package lab

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/vpcroute/vpcroute/internal/racecheck"
)

// RaceReport is what the Go race detector said in one vpcroute or
// vpcroute-sim process the lab ran (the tests build them with -race).
type RaceReport struct {
	// Process names the process, e.g. "daemon on h1".
	Process string
	// Count is how many reports it printed.
	Count int
	// First is the start of its first report.
	First string
}

// String is the process, the count and the first report.
func (r RaceReport) String() string {
	return fmt.Sprintf("%s: %d data race report(s); the first:\n%s", r.Process, r.Count, r.First)
}

// raceLog gathers the lab processes' race reports: daemons and the
// simulator are watched while they write (a daemon killed with SIGKILL, or
// a host whose directory was swept, keeps its reports), vpcroute commands
// are looked at when they end.
type raceLog struct {
	mu      sync.Mutex
	watched []watchedProc
	ended   []RaceReport
}

type watchedProc struct {
	name string
	w    *racecheck.Writer
}

// watch returns a writer passing a process's output on to w and counting
// the race reports in it.
func (r *raceLog) watch(name string, w io.Writer) io.Writer {
	rw := racecheck.NewWriter(w)
	r.mu.Lock()
	r.watched = append(r.watched, watchedProc{name, rw})
	r.mu.Unlock()
	return rw
}

// noteCmd records the race reports of a finished command: its output, or
// the race detector's exit status when the output kept is only the end.
func (r *raceLog) noteCmd(name string, err error) {
	var ce *CmdError
	if !errors.As(err, &ce) {
		return
	}
	n := racecheck.Count(ce.Output)
	if n == 0 && ce.ExitCode != racecheck.ExitCode {
		return
	}
	first := racecheck.Excerpt(ce.Output)
	if first == "" {
		first = fmt.Sprintf("(exit status %d, the race detector's; the report is beyond the output kept)", ce.ExitCode)
	}
	r.mu.Lock()
	r.ended = append(r.ended, RaceReport{Process: name, Count: max(n, 1), First: first})
	r.mu.Unlock()
}

// RaceReports returns the race reports of every vpcroute and vpcroute-sim
// process the lab has run so far, running or ended. A lab whose binaries
// were built without -race has none.
func (l *Lab) RaceReports() []RaceReport {
	l.races.mu.Lock()
	defer l.races.mu.Unlock()
	out := append([]RaceReport(nil), l.races.ended...)
	for _, p := range l.races.watched {
		if n := p.w.Races(); n > 0 {
			out = append(out, RaceReport{Process: p.name, Count: n, First: p.w.Excerpt()})
		}
	}
	return out
}

// racesError is an error naming every race report, or nil.
func racesError(reports []RaceReport) error {
	if len(reports) == 0 {
		return nil
	}
	var b strings.Builder
	for _, r := range reports {
		b.WriteString("\n" + r.String())
	}
	return fmt.Errorf("data races in the lab's processes:%s", b.String())
}
