package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"time"
)

// SimCall is one API call the simulator answered, as its debug log names
// it: which host sent it (the lab's hosts reach the simulator from their
// own vswitch addresses) and how it ended. The log's order is the order the
// simulator finished the calls in.
type SimCall struct {
	At      time.Time // when the simulator logged it, to the millisecond
	Action  string
	Outcome string     // "ok" or the error code answered
	From    netip.Addr // the caller's address
}

// Write reports whether the call asked to change a route table (an
// Alibaba Create/Delete/Modify or an EC2 Create/Replace/Delete action),
// whatever its outcome.
func (c SimCall) Write() bool {
	for _, p := range []string{"Create", "Delete", "Modify", "Replace"} {
		if strings.HasPrefix(c.Action, p) {
			return true
		}
	}
	return false
}

// simCallMark is the message of the simulator's per-call debug line.
const simCallMark = "\trpc call\t"

// simLogTime is the layout of the simulator's console log timestamps.
const simLogTime = "2006-01-02T15:04:05.000Z0700"

// ParseSimCalls reads the Alibaba RPC calls out of the simulator's console
// log (run with --log-level debug), in the order logged. Other lines are
// skipped; a call line that does not decode is an error naming it.
func ParseSimCalls(log string) ([]SimCall, error) {
	var calls []SimCall
	for _, line := range strings.Split(log, "\n") {
		head, fields, ok := strings.Cut(line, simCallMark)
		if !ok {
			continue
		}
		stamp, _, _ := strings.Cut(head, "\t")
		at, err := time.Parse(simLogTime, stamp)
		if err != nil {
			return nil, fmt.Errorf("simulator call line %q: time %q: expected %s", line, stamp, simLogTime)
		}
		var f struct {
			Action  string `json:"action"`
			Outcome string `json:"outcome"`
			Remote  string `json:"remote"`
		}
		if err := json.Unmarshal([]byte(fields), &f); err != nil {
			return nil, fmt.Errorf("simulator call line %q: %w", line, err)
		}
		from, err := netip.ParseAddrPort(f.Remote)
		if err != nil {
			return nil, fmt.Errorf("simulator call line %q: remote %q: expected host:port", line, f.Remote)
		}
		calls = append(calls, SimCall{At: at, Action: f.Action, Outcome: f.Outcome, From: from.Addr()})
	}
	return calls, nil
}

// SimLogMark is where the simulator's log ends now: SimCallsSince reads
// the calls logged after it.
func (l *Lab) SimLogMark() (int64, error) {
	if l.sim == nil {
		return 0, fmt.Errorf("simulator log: the lab has no simulator (Config.BinDir is empty)")
	}
	st, err := os.Stat(l.sim.logPath)
	if err != nil {
		return 0, fmt.Errorf("simulator log: %w", err)
	}
	return st.Size(), nil
}

// SimCallsSince returns the calls the simulator logged after mark. A call
// still being written is left for the next read.
func (l *Lab) SimCallsSince(mark int64) ([]SimCall, error) {
	if l.sim == nil {
		return nil, fmt.Errorf("simulator log: the lab has no simulator (Config.BinDir is empty)")
	}
	b, err := os.ReadFile(l.sim.logPath)
	if err != nil {
		return nil, fmt.Errorf("simulator log: %w", err)
	}
	if int64(len(b)) < mark {
		return nil, fmt.Errorf("simulator log %s shrank below %d bytes", l.sim.logPath, mark)
	}
	b = b[mark:]
	if i := strings.LastIndexByte(string(b), '\n'); i >= 0 {
		b = b[:i+1]
	} else {
		b = nil
	}
	return ParseSimCalls(string(b))
}

// SimSetFaults replaces the simulator's fault rules (POST /sim/v1/faults
// with a JSON array of sim.FaultRule); "[]" clears them.
func (l *Lab) SimSetFaults(ctx context.Context, rulesJSON string) error {
	if _, err := l.simDo(ctx, http.MethodDelete, "/sim/v1/faults", nil); err != nil {
		return fmt.Errorf("clear simulator faults: %w", err)
	}
	if rulesJSON == "[]" {
		return nil
	}
	if _, err := l.simDo(ctx, http.MethodPost, "/sim/v1/faults", []byte(rulesJSON)); err != nil {
		return fmt.Errorf("set simulator faults: %w", err)
	}
	return nil
}
