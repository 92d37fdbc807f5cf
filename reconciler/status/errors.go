package status

import (
	"strings"
	"sync"
	"time"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/internal/textline"
)

// MaxErrors is how many recent errors Errors keeps.
const MaxErrors = 20

// Errors keeps the most recent errors for the status document: a ring of
// MaxErrors entries, newest first in List. A repeat of the newest entry
// (same component and message) bumps its count and time instead of taking
// a slot, so one error retried every second does not push out the rest.
//
// The zero value is ready to use with the wall clock; it is safe for
// concurrent use.
type Errors struct {
	mu sync.Mutex
	// Now is the clock; nil means time.Now. Set it before first use.
	Now func() time.Time
	// ring holds up to MaxErrors entries; next is where the next new entry
	// goes, so the newest is at next-1.
	ring [MaxErrors]ErrorEntry
	next int
	n    int
}

// Add records err as seen by component. A nil err is ignored. The message
// is flattened to one line and scrubbed of credentials.
func (e *Errors) Add(component string, err error) {
	if err == nil {
		return
	}
	msg := cloud.Redact(oneLine(err.Error()))
	e.mu.Lock()
	defer e.mu.Unlock()
	now := time.Now
	if e.Now != nil {
		now = e.Now
	}
	t := now().UTC()
	if e.n > 0 {
		last := &e.ring[(e.next+MaxErrors-1)%MaxErrors]
		if last.Component == component && last.Message == msg {
			last.Count++
			last.Time = t
			return
		}
	}
	e.ring[e.next] = ErrorEntry{Time: t, Component: component, Message: msg, Count: 1}
	e.next = (e.next + 1) % MaxErrors
	if e.n < MaxErrors {
		e.n++
	}
}

// List returns the recorded errors, newest first; never nil.
func (e *Errors) List() []ErrorEntry {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]ErrorEntry, 0, e.n)
	for i := 1; i <= e.n; i++ {
		out = append(out, e.ring[(e.next+MaxErrors-i)%MaxErrors])
	}
	return out
}

// oneLine joins the lines of s (textline.Lines) with "; ", or with a space
// after a line ending in ":", so that a multi-line error such as an SDK's
// stays one entry line that reads as a sentence.
func oneLine(s string) string {
	var b strings.Builder
	for _, line := range textline.Lines(s) {
		if b.Len() > 0 {
			if strings.HasSuffix(b.String(), ":") {
				b.WriteString(" ")
			} else {
				b.WriteString("; ")
			}
		}
		b.WriteString(line)
	}
	return b.String()
}
