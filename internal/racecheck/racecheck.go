// Package racecheck finds the Go race detector's reports in the output of
// a process: tests run vpcroute and vpcroute-sim built with -race, and a
// race in a child must fail the test that started it, even when the child
// is killed before it can exit with the detector's status.
package racecheck

import (
	"bytes"
	"io"
	"strings"
	"sync"
)

// Marker starts every report the race detector prints, at the moment it
// detects the race.
const Marker = "WARNING: DATA RACE"

// ExitCode is the status a race-enabled program exits with after
// reporting a race (GORACE exitcode; neither vpcroute nor vpcroute-sim
// uses it).
const ExitCode = 66

// excerptLines is how much of the first report Excerpt keeps: the two
// accesses' top frames.
const excerptLines = 12

// Count returns how many race reports out holds.
func Count(out string) int { return strings.Count(out, Marker) }

// Excerpt returns the start of the first report in out, or "" if there
// is none.
func Excerpt(out string) string {
	i := strings.Index(out, Marker)
	if i < 0 {
		return ""
	}
	lines := strings.SplitN(out[i:], "\n", excerptLines+1)
	return strings.Join(lines[:min(len(lines), excerptLines)], "\n")
}

// Writer passes a process's output on to W and counts the race reports in
// it as they are written, whatever size the writes are cut into. It is
// safe for concurrent use (a process's stdout and stderr may share one).
type Writer struct {
	w io.Writer

	mu    sync.Mutex
	tail  []byte // the end of the output so far, shorter than Marker
	races int
	first []byte // output from the first marker on, up to firstMax bytes
}

// firstMax bounds the first report kept for Excerpt.
const firstMax = 4096

// NewWriter returns a Writer passing everything on to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Write counts the markers that p completes, then writes p to W.
func (rw *Writer) Write(p []byte) (int, error) {
	rw.mu.Lock()
	buf := append(rw.tail, p...)
	n := bytes.Count(buf, []byte(Marker))
	switch {
	case n > 0 && rw.races == 0:
		rw.first = append([]byte(nil), buf[bytes.Index(buf, []byte(Marker)):]...)
	case len(rw.first) > 0 && len(rw.first) < firstMax:
		rw.first = append(rw.first, p...)
	}
	rw.first = rw.first[:min(len(rw.first), firstMax)]
	rw.races += n
	keep := min(len(buf), len(Marker)-1)
	rw.tail = append(rw.tail[:0:0], buf[len(buf)-keep:]...)
	rw.mu.Unlock()
	return rw.w.Write(p)
}

// Races returns how many reports were written so far.
func (rw *Writer) Races() int {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	return rw.races
}

// Excerpt returns the start of the first report written, or "".
func (rw *Writer) Excerpt() string {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	return Excerpt(string(rw.first))
}
