package aliyun

import (
	"errors"
	"fmt"
	"strings"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/internal/textline"
)

// Error codes with a meaning for vpcroute. Alibaba Cloud spells
// "DistibuteLock" that way.
const (
	codeDuplicate         = "InvalidCIDRBlock.Duplicate"
	codeEntryNotFound     = "InvalidRouteEntry.NotFound"
	codeQuotaExceeded     = "QuotaExceeded"
	codeTaskConflict      = "TaskConflict"
	codeOperationConflict = "OperationConflict"
	codeEntryStatus       = "IncorrectRouteEntryStatus"
	codeVpcStatus         = "IncorrectVpcStatus"
	codeDistributeLock    = "OperationFailed.DistibuteLock"
	codeUnavailable       = "ServiceUnavailable"
)

// APIError is one failed API call, reduced to one line: the SDK's own error
// text spans several lines and carries response headers.
type APIError struct {
	Action    string
	Code      string
	Status    int
	Message   string
	RequestID string
	// Transport is set when no HTTP answer came back.
	Transport bool
	cause     error
}

// Error renders "Action: Code (HTTP n): message", scrubbed of credentials:
// a transport error's text is the SDK's signed request URL, whose query
// holds the access key, the security token and the signature.
func (e *APIError) Error() string {
	if e.Transport {
		return cloud.Redact(fmt.Sprintf("%s: %v", e.Action, e.cause))
	}
	msg := textline.Join(e.Message, " ")
	s := fmt.Sprintf("%s: %s (HTTP %d)", e.Action, e.Code, e.Status)
	if msg != "" {
		s += ": " + msg
	}
	if e.RequestID != "" {
		s += " [request " + e.RequestID + "]"
	}
	return cloud.Redact(s)
}

// Unwrap exposes the SDK's error, whose own text is not scrubbed.
func (e *APIError) Unwrap() error { return e.cause }

// wrapSDKError turns an SDK error into an *APIError; nil stays nil.
func wrapSDKError(action string, err error) error {
	if err == nil {
		return nil
	}
	var server *sdkerrors.ServerError
	if errors.As(err, &server) {
		return &APIError{Action: action, Code: server.ErrorCode(), Status: server.HttpStatus(),
			Message: server.Message(), RequestID: server.RequestId(), cause: err}
	}
	var client *sdkerrors.ClientError
	if errors.As(err, &client) {
		// Client errors that wrap a transport failure are retryable; the
		// others (bad parameters, credentials) are not.
		transport := client.OriginError() != nil || client.ErrorCode() == sdkerrors.TimeoutErrorCode
		return &APIError{Action: action, Code: client.ErrorCode(), Message: textline.Join(client.Message(), " "),
			Transport: transport, cause: err}
	}
	// Without AutoRetry the SDK hands back net/http errors as they are.
	return &APIError{Action: action, Code: "Transport", Transport: true, cause: err}
}

// codeOf returns the provider error code of err, or "".
func codeOf(err error) string {
	var api *APIError
	if errors.As(err, &api) {
		return api.Code
	}
	return ""
}

// retryable reports whether a call that failed with err may succeed if sent
// again later: conflicts with another change in flight, throttling, server
// trouble and transport failures. Quota, permission and parameter errors
// are final.
func retryable(err error) bool {
	var api *APIError
	if !errors.As(err, &api) {
		return false
	}
	if api.Transport || api.Status >= 500 {
		return true
	}
	return retryableCode(api.Code)
}

// retryableCode reports whether a per-entry failure code (from the batch
// calls) is worth another try.
func retryableCode(code string) bool {
	return busyCode(code) || throttledCode(code) || code == codeUnavailable
}

// busyCode reports whether code means the cloud refused a call because
// another change is in flight (a conflict that clears by itself), as
// opposed to a rate limit or server trouble.
func busyCode(code string) bool {
	switch code {
	case codeTaskConflict, codeOperationConflict, codeEntryStatus, codeVpcStatus, codeDistributeLock:
		return true
	}
	return false
}

// throttledCode reports whether code is a rate-limit answer (Throttling,
// Throttling.User, Throttling.Api, ...).
func throttledCode(code string) bool {
	return strings.HasPrefix(code, "Throttling")
}

// throttled reports whether err is a throttling answer (counted apart in
// stats and logs because it means the pacing is wrong, not the cloud).
func throttled(err error) bool {
	return throttledCode(codeOf(err))
}
