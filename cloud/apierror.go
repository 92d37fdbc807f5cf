package cloud

import (
	"errors"
	"fmt"

	"github.com/vpcroute/vpcroute/internal/textline"
)

// APIError is one failed API call of a provider, reduced to one line: the
// SDKs' own error texts span several lines, nest wrappers and carry
// request URLs. Each provider turns its SDK's errors into APIErrors; what
// a code means (retryable, throttled, final) stays the provider's.
type APIError struct {
	Action    string
	Code      string
	Status    int
	Message   string
	RequestID string
	// Transport is set when no HTTP answer came back.
	Transport bool
	// Unanswered, when set, is the failure to report instead of an answer:
	// the call got none a code could be read from (a transport failure,
	// the client's own refusal). Its text is shown, on one line.
	Unanswered error
	// Cause is the SDK's error, whose own text is not scrubbed.
	Cause error
}

// Error renders "Action: Code (HTTP n): message [request id]", or
// "Action: <the unanswered failure>", scrubbed of credentials: a transport
// error's text holds the signed request URL, whose query may hold access
// keys, tokens and signatures.
func (e *APIError) Error() string {
	if e.Unanswered != nil {
		return Redact(fmt.Sprintf("%s: %s", e.Action, textline.Join(e.Unanswered.Error(), " ")))
	}
	s := fmt.Sprintf("%s: %s (HTTP %d)", e.Action, e.Code, e.Status)
	if msg := textline.Join(e.Message, " "); msg != "" {
		s += ": " + msg
	}
	if e.RequestID != "" {
		s += " [request " + e.RequestID + "]"
	}
	return Redact(s)
}

// Unwrap exposes the SDK's error.
func (e *APIError) Unwrap() error { return e.Cause }

// APICode returns the provider's error code of err, or "" when err holds
// no *APIError.
func APICode(err error) string {
	var api *APIError
	if errors.As(err, &api) {
		return api.Code
	}
	return ""
}

// RetryableAPIError reports whether a call that failed with err may succeed
// if sent again later: no answer came back, the server failed (5xx), or
// retryableCode, the provider's list, says the code is worth another try.
// An error that holds no *APIError is final.
func RetryableAPIError(err error, retryableCode func(code string) bool) bool {
	var api *APIError
	if !errors.As(err, &api) {
		return false
	}
	return api.Transport || api.Status >= 500 || retryableCode(api.Code)
}
