package aws

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/vpcroute/vpcroute/cloud"
)

func TestErrorMapping(t *testing.T) {
	sendErr := func(err error) error {
		return &smithy.OperationError{ServiceID: "EC2", OperationName: "CreateRoute", Err: &smithyhttp.RequestSendError{Err: err}}
	}
	tests := []struct {
		name      string
		err       error
		code      string
		retry     bool
		outcome   string
		text      string
		transport bool
	}{
		{"throttled", apiErr("CreateRoute", 503, "RequestLimitExceeded", "Request limit exceeded."), "RequestLimitExceeded", true, cloud.OutcomeThrottled,
			"CreateRoute: RequestLimitExceeded (HTTP 503): Request limit exceeded. [request req-RequestLimitExceeded]", false},
		{"server error", apiErr("CreateRoute", 500, "InternalError", "An internal error has occurred"), "InternalError", true, cloud.OutcomeError, "", false},
		{"unavailable", apiErr("CreateRoute", 503, "Unavailable", "down"), "Unavailable", true, cloud.OutcomeError, "", false},
		{"exists", apiErr("CreateRoute", 400, "RouteAlreadyExists", "The route identified by 10.0.0.0/24 already exists."), "RouteAlreadyExists", false, cloud.OutcomeError, "", false},
		{"limit", apiErr("CreateRoute", 400, "RouteLimitExceeded", "The maximum number of routes has been reached."), "RouteLimitExceeded", false, cloud.OutcomeError, "", false},
		{"auth", apiErr("CreateRoute", 401, "AuthFailure", "AWS was not able to validate the provided access credentials"), "AuthFailure", false, cloud.OutcomeError, "", false},
		{"connection refused", sendErr(&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}), codeTransport, true, cloud.OutcomeError,
			"CreateRoute: dial tcp: connection refused", true},
		{"reset", sendErr(io.ErrUnexpectedEOF), codeTransport, true, cloud.OutcomeError, "", true},
		{"cancelled", sendErr(context.Canceled), "Client", false, cloud.OutcomeError, "", false},
		{"connection lost in the answer", &smithy.OperationError{ServiceID: "EC2", OperationName: "CreateRoute", Err: &smithy.DeserializationError{
			Err: fmt.Errorf("failed to decode response body, %w", &net.OpError{Op: "read", Net: "tcp", Err: net.ErrClosed})}}, codeTransport, true, cloud.OutcomeError, "", true},
		{"garbled answer", &smithy.OperationError{ServiceID: "EC2", OperationName: "CreateRoute", Err: &smithy.DeserializationError{
			Err: errors.New("failed to decode response body, XML syntax error")}}, "Client", false, cloud.OutcomeError, "", false},
		{"no credentials", &smithy.OperationError{ServiceID: "EC2", OperationName: "CreateRoute", Err: errors.New("failed to retrieve credentials")}, "Client", false, cloud.OutcomeError,
			"CreateRoute: failed to retrieve credentials", false},
	}
	for _, tt := range tests {
		err := wrapSDKError("CreateRoute", tt.err)
		var api *APIError
		if !errors.As(err, &api) {
			t.Fatalf("%s: not an APIError: %v", tt.name, err)
		}
		if api.Code != tt.code || retryable(err) != tt.retry || api.Transport != tt.transport {
			t.Errorf("%s: code %q retryable %v transport %v, want %q %v %v", tt.name, api.Code, retryable(err), api.Transport, tt.code, tt.retry, tt.transport)
		}
		if got := outcomeOf("CreateRoute", tt.err); got != tt.outcome {
			t.Errorf("%s: outcome %q, want %q", tt.name, got, tt.outcome)
		}
		if tt.text != "" && err.Error() != tt.text {
			t.Errorf("%s: text %q, want %q", tt.name, err.Error(), tt.text)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error spans lines: %q", tt.name, err.Error())
		}
		if wrapSDKError("X", err) != err {
			t.Errorf("%s: wrapping twice changed the error", tt.name)
		}
	}
	if wrapSDKError("X", nil) != nil {
		t.Error("nil must stay nil")
	}
}

func TestRouteMissing(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		// EC2's answers to a ReplaceRoute and a DeleteRoute of a missing destination.
		{apiErr("ReplaceRoute", 400, "InvalidParameterValue", "There is no route defined for '10.0.0.0/24' in the route table. Use CreateRoute instead."), true},
		{apiErr("DeleteRoute", 400, "InvalidRoute.NotFound", "The route identified by 10.0.0.0/24 does not exist."), true},
		// Other bad values are not a missing route.
		{apiErr("ReplaceRoute", 400, "InvalidParameterValue", "Value (10.0.0.1/24) for parameter destinationCidrBlock is invalid."), false},
		{apiErr("ReplaceRoute", 400, "InvalidNetworkInterfaceID.NotFound", "no route defined"), false},
		{errors.New("There is no route defined"), false},
		{nil, false},
	} {
		if got := routeMissing(wrapSDKError("X", tt.err)); got != tt.want {
			t.Errorf("routeMissing(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
