package sim

import (
	"time"
)

// Route changes are asynchronous like the real API's: a created entry is
// Pending, a modified one Modifying, a deleted one Deleting, each for the
// pending delay. Deletion then removes the entry (the real API also lists a
// Deleting entry until it is gone, which is what keeps the VPC busy). While
// any entry of a VPC is in transition, further changes in that VPC fail
// with the conflict code.

// startTransition puts e in a transient status and schedules its end.
// Callers hold s.mu.
func (s *Server) startTransition(e *entry, status string, remove bool) {
	e.status = status
	e.deleteAfter = remove
	e.hold = false
	e.modified = time.Now().UTC()
	e.gen++
	if t := s.timers[e.id]; t != nil {
		t.Stop()
		delete(s.timers, e.id)
	}
	if s.beh.pendingDelay <= 0 {
		s.finish(e)
		return
	}
	id, gen := e.id, e.gen
	s.timers[e.id] = time.AfterFunc(s.beh.pendingDelay, func() { s.completeTransition(id, gen) })
}

// finish ends e's transition. Callers hold s.mu.
func (s *Server) finish(e *entry) {
	if t := s.timers[e.id]; t != nil {
		t.Stop()
		delete(s.timers, e.id)
	}
	if e.deleteAfter {
		s.w.removeEntry(e)
		return
	}
	e.status = StatusAvailable
	e.modified = time.Now().UTC()
	e.gen++
}

// completeTransition is the timer's callback; a stale generation means the
// entry changed since and the timer is obsolete.
func (s *Server) completeTransition(id string, gen uint64) {
	s.mu.Lock()
	e := s.w.entries[id]
	if s.closed || e == nil || e.gen != gen {
		s.mu.Unlock()
		return
	}
	s.finish(e)
	s.mu.Unlock()
	s.SyncDataplane()
}

// Settle ends every transition in flight now, as if the pending delay had
// passed. Entries put with Hold stay as they are.
func (s *Server) Settle() {
	s.mu.Lock()
	if !s.w.d.transitions() {
		// Changes take effect at once: there is nothing in flight.
		s.mu.Unlock()
		return
	}
	for _, e := range s.sortedEntries() {
		if e.status != StatusAvailable && !e.hold {
			s.finish(e)
		}
	}
	s.mu.Unlock()
	s.SyncDataplane()
}

// Busy reports whether a route change in the VPC would be refused now.
func (s *Server) Busy(vpcID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.busy(vpcID) != nil
}

// conflict is the answer to a change in a busy VPC. Callers hold s.mu.
func (s *Server) conflict(vpcID string, e *entry) *apiError {
	code := s.beh.conflictCode
	if code == ConflictAlternate {
		code = conflictCodes[s.conflictTurn%len(conflictCodes)]
		s.conflictTurn++
	}
	return badRequest(code,
		"The current status of the route entry does not support this operation: entry %s (%s) of VPC %s is %s; retry when it is Available.",
		e.id, e.dest, vpcID, e.status)
}

// sortedEntries lists every entry in creation order. Callers hold s.mu.
func (s *Server) sortedEntries() []*entry {
	var out []*entry
	for _, t := range s.w.tables {
		out = append(out, t.entries...)
	}
	return out
}
