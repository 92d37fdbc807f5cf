package aws

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/internal/textline"
)

// Error codes with a meaning for vpcroute.
const (
	codeRouteExists      = "RouteAlreadyExists"
	codeRouteNotFound    = "InvalidRoute.NotFound"
	codeInvalidValue     = "InvalidParameterValue"
	codeRouteLimit       = "RouteLimitExceeded"
	codeRequestLimit     = "RequestLimitExceeded"
	codeThrottling       = "Throttling"
	codeInternalError    = "InternalError"
	codeInternalFailure  = "InternalFailure"
	codeUnavailable      = "Unavailable"
	codeServiceUnavail   = "ServiceUnavailable"
	codeTransport        = "Transport"
	codeClient           = "Client"
	codeUnauthorized     = "UnauthorizedOperation"
	codeAuthFailure      = "AuthFailure"
	codeSignatureInvalid = "SignatureDoesNotMatch"
)

// APIError is one failed EC2 call, reduced to one line: the SDK's own text
// nests the operation, the HTTP status and the request ID in a long chain.
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

// Error renders "Action: Code (HTTP n): message [request id]", scrubbed of
// credentials: a transport error's text holds the request URL.
func (e *APIError) Error() string {
	if e.Transport || e.Status == 0 || e.Code == codeClient {
		return cloud.Redact(fmt.Sprintf("%s: %s", e.Action, textline.Join(innermost(e.cause).Error(), " ")))
	}
	s := fmt.Sprintf("%s: %s (HTTP %d)", e.Action, e.Code, e.Status)
	if msg := textline.Join(e.Message, " "); msg != "" {
		s += ": " + msg
	}
	if e.RequestID != "" {
		s += " [request " + e.RequestID + "]"
	}
	return cloud.Redact(s)
}

// Unwrap exposes the SDK's error, whose own text is not scrubbed.
func (e *APIError) Unwrap() error { return e.cause }

// innermost strips the SDK's "operation error EC2: X, ..." wrappers, whose
// text repeats what APIError already says.
func innermost(err error) error {
	var op *smithy.OperationError
	if errors.As(err, &op) && op.Err != nil {
		err = op.Err
	}
	var send *smithyhttp.RequestSendError
	if errors.As(err, &send) && send.Err != nil {
		err = send.Err
	}
	return err
}

// wrapSDKError turns an SDK error into an *APIError; nil stays nil.
func wrapSDKError(action string, err error) error {
	if err == nil {
		return nil
	}
	var already *APIError
	if errors.As(err, &already) {
		return err
	}
	out := &APIError{Action: action, cause: err}
	var resp *awshttp.ResponseError
	if errors.As(err, &resp) {
		out.Status = resp.HTTPStatusCode()
		out.RequestID = resp.ServiceRequestID()
	}
	var api smithy.APIError
	switch {
	case errors.As(err, &api):
		out.Code, out.Message = api.ErrorCode(), api.ErrorMessage()
	case isTransport(err):
		out.Code, out.Transport = codeTransport, true
	default:
		// Signing without credentials, a request the SDK refused to build,
		// an answer it could not parse: nothing a retry would fix.
		out.Code = codeClient
	}
	return out
}

// isTransport reports whether err means no answer came back: the request
// could not be sent or the connection broke before a full answer.
func isTransport(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false
	}
	var send *smithyhttp.RequestSendError
	if errors.As(err, &send) {
		return true
	}
	// A connection lost in the middle of the answer's body surfaces as a
	// failed deserialization.
	var deser *smithy.DeserializationError
	if !errors.As(err, &deser) {
		return false
	}
	var op *net.OpError
	return errors.Is(deser, io.ErrUnexpectedEOF) || errors.Is(deser, net.ErrClosed) ||
		errors.Is(deser, syscall.ECONNRESET) || errors.As(deser, &op)
}

// codeOf returns the EC2 error code of err, or "".
func codeOf(err error) string {
	var api *APIError
	if errors.As(err, &api) {
		return api.Code
	}
	return ""
}

// routeMissing reports whether err says the table holds no route for the
// destination. EC2 answers a ReplaceRoute of a missing destination with
// InvalidParameterValue "There is no route defined for '10.0.0.0/24' in
// the route table. Use CreateRoute instead." and a DeleteRoute with
// InvalidRoute.NotFound; both mean the same here.
func routeMissing(err error) bool {
	var api *APIError
	if !errors.As(err, &api) {
		return false
	}
	switch api.Code {
	case codeRouteNotFound:
		return true
	case codeInvalidValue:
		return strings.Contains(strings.ToLower(api.Message), "no route defined")
	}
	return false
}

// retryable reports whether a call that failed with err may succeed if sent
// again later: throttling, server trouble and transport failures. Quota,
// permission, parameter and credential errors are final.
func retryable(err error) bool {
	var api *APIError
	if !errors.As(err, &api) {
		return false
	}
	if api.Transport || api.Status >= 500 {
		return true
	}
	switch api.Code {
	case codeRequestLimit, codeThrottling, codeInternalError, codeInternalFailure, codeUnavailable, codeServiceUnavail:
		return true
	}
	return false
}

// throttledCode reports whether code is a rate-limit answer.
func throttledCode(code string) bool {
	return code == codeRequestLimit || code == codeThrottling
}

// throttled reports whether err is a rate-limit answer (counted apart in
// stats and logs because it means the pacing is wrong, not the cloud).
func throttled(err error) bool { return throttledCode(codeOf(err)) }
