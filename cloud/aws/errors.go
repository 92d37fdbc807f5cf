package aws

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/vpcroute/vpcroute/cloud"
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

// APIError is one failed EC2 call, reduced to one line (cloud.APIError):
// the SDK's own text nests the operation, the HTTP status and the request
// ID in a long chain.
type APIError = cloud.APIError

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
	out := &APIError{Action: action, Cause: err}
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
	if out.Transport || out.Status == 0 || out.Code == codeClient {
		// No answer to report: the failure itself, without the SDK's
		// wrappers.
		out.Unanswered = innermost(err)
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
func codeOf(err error) string { return cloud.APICode(err) }

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
func retryable(err error) bool { return cloud.RetryableAPIError(err, retryableCode) }

// retryableCode reports whether an answer's code is worth another try.
func retryableCode(code string) bool {
	switch code {
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
