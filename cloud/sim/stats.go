package sim

// Action classes: reads (Describe*) and writes (Create/Delete/Modify*) are
// counted and throttled separately.
const (
	classRead  = "read"
	classWrite = "write"
	classOther = "other"
)

// Stats counts RPC calls (metadata and admin calls are not counted).
type Stats struct {
	// Actions maps an action to its outcomes: "ok" or the error code
	// answered ("TransportError" when the connection was dropped).
	Actions map[string]map[string]int `json:"actions"`
	// Reads and Writes count every call of each class, whatever its outcome.
	Reads  int `json:"reads"`
	Writes int `json:"writes"`
	// Total counts every RPC call, unknown actions included.
	Total int `json:"total"`
}

// Count returns how many calls of action ended with outcome.
func (s Stats) Count(action, outcome string) int {
	return s.Actions[action][outcome]
}

// Calls returns how many calls of action were made, whatever the outcome.
func (s Stats) Calls(action string) int {
	n := 0
	for _, c := range s.Actions[action] {
		n += c
	}
	return n
}

// Errors returns how many calls of action failed.
func (s Stats) Errors(action string) int {
	return s.Calls(action) - s.Count(action, outcomeOK)
}

type statsCounter struct {
	actions              map[string]map[string]int
	reads, writes, total int
}

func newStatsCounter() statsCounter {
	return statsCounter{actions: map[string]map[string]int{}}
}

func (c *statsCounter) record(action, class, outcome string) {
	m := c.actions[action]
	if m == nil {
		m = map[string]int{}
		c.actions[action] = m
	}
	m[outcome]++
	c.total++
	switch class {
	case classRead:
		c.reads++
	case classWrite:
		c.writes++
	}
}

func (c *statsCounter) snapshot() Stats {
	out := Stats{Actions: map[string]map[string]int{}, Reads: c.reads, Writes: c.writes, Total: c.total}
	for a, m := range c.actions {
		cp := make(map[string]int, len(m))
		for k, v := range m {
			cp[k] = v
		}
		out.Actions[a] = cp
	}
	return out
}

// Stats returns a copy of the call counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats.snapshot()
}

// ResetStats zeroes the call counters.
func (s *Server) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats = newStatsCounter()
}

func (s *Server) record(action, class, outcome string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.record(action, class, outcome)
}
