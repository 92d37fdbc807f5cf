package cloud

import "time"

// Outcomes of one cloud API call, as reported to a CallObserver.
const (
	// OutcomeOK: the call succeeded.
	OutcomeOK = "ok"
	// OutcomeThrottled: the cloud refused the call for its rate limit.
	OutcomeThrottled = "throttled"
	// OutcomeBusy: the cloud refused the call because of a concurrent
	// change (retryable, not a rate limit).
	OutcomeBusy = "busy"
	// OutcomeError: any other failure.
	OutcomeError = "error"
)

// CallObserver is told about every API call a provider sends, retries
// included, so that status and metrics can count them by action and
// outcome. Implementations must be safe for concurrent use and fast.
type CallObserver interface {
	ObserveCall(action, outcome string, took time.Duration)
}

// NopObserver discards observations.
type NopObserver struct{}

// ObserveCall does nothing.
func (NopObserver) ObserveCall(string, string, time.Duration) {}
