package sim

import (
	"fmt"
	"net/http"
	"time"
)

// FaultRule injects a failure into API calls (Alibaba RPC or EC2). Rules are checked in order;
// the first that matches and fires wins.
type FaultRule struct {
	// Action is the RPC action to fail; "" or "*" means every action.
	Action string `yaml:"action,omitempty" json:"action,omitempty"`
	// Code and Message are answered; Code is required unless Close is set.
	Code    string `yaml:"code,omitempty" json:"code,omitempty"`
	Message string `yaml:"message,omitempty" json:"message,omitempty"`
	// HTTPStatus defaults to 503 for ServiceUnavailable, 500 for
	// InternalError and 400 otherwise; on AWS to the status EC2 answers the
	// code with (503 RequestLimitExceeded and Unavailable, 401 AuthFailure,
	// 403 UnauthorizedOperation, 500 InternalError, else 400).
	HTTPStatus int `yaml:"httpStatus,omitempty" json:"httpStatus,omitempty"`
	// Count is how many times the rule fires before it is dropped; 0 means
	// unlimited.
	Count int `yaml:"count,omitempty" json:"count,omitempty"`
	// Probability (0 < p <= 1) makes the rule fire at random; 0 means always.
	Probability float64 `yaml:"probability,omitempty" json:"probability,omitempty"`
	// Close drops the connection without an answer (a transport error).
	Close bool `yaml:"close,omitempty" json:"close,omitempty"`
	// DelayMillis holds the call this long before failing it.
	DelayMillis int `yaml:"delayMillis,omitempty" json:"delayMillis,omitempty"`
}

func (f FaultRule) validate(field string, d dialect) error {
	if f.Action != "" && f.Action != "*" {
		if err := d.checkFaultAction(field+".action", f.Action); err != nil {
			return err
		}
	}
	if f.Code == "" && !f.Close {
		return paramError(field+".code", f.Code, "an error code such as TaskConflict (or close: true)")
	}
	if f.HTTPStatus != 0 && (f.HTTPStatus < 400 || f.HTTPStatus > 599) {
		return paramError(field+".httpStatus", fmt.Sprint(f.HTTPStatus), "an HTTP error status from 400 to 599")
	}
	if f.Count < 0 {
		return paramError(field+".count", fmt.Sprint(f.Count), "0 (unlimited) or more")
	}
	if f.Probability < 0 || f.Probability > 1 {
		return paramError(field+".probability", fmt.Sprint(f.Probability), "a probability from 0 to 1")
	}
	if f.DelayMillis < 0 {
		return paramError(field+".delayMillis", fmt.Sprint(f.DelayMillis), "0 or more milliseconds")
	}
	return nil
}

func (f FaultRule) status() int {
	switch {
	case f.HTTPStatus != 0:
		return f.HTTPStatus
	case f.Code == CodeServiceUnavailable:
		return http.StatusServiceUnavailable
	case f.Code == "InternalError":
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

func (f FaultRule) delay() time.Duration { return time.Duration(f.DelayMillis) * time.Millisecond }

// AddFault appends a rule after validating it.
func (s *Server) AddFault(f FaultRule) error {
	if err := f.validate("fault", s.w.d); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
	return nil
}

// SetFault is AddFault under the name the tests of other packages expect.
func (s *Server) SetFault(f FaultRule) error { return s.AddFault(f) }

// ClearFaults removes every rule.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// Faults returns the active rules, counts as they stand.
func (s *Server) Faults() []FaultRule {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]FaultRule, 0, len(s.faults))
	for _, f := range s.faults {
		out = append(out, *f)
	}
	return out
}

// fault returns the rule firing for this call, if any, and spends one of
// its counts.
func (s *Server) fault(action string) (FaultRule, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.Action != "" && f.Action != "*" && f.Action != action {
			continue
		}
		if f.Probability > 0 && s.rng.Float64() >= f.Probability {
			continue
		}
		fired := *f
		if f.Count > 0 {
			f.Count--
			if f.Count == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		return fired, true
	}
	return FaultRule{}, false
}
