package cloud_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/vpcroute/vpcroute/cloud"
)

func TestAPIErrorRendersOneScrubbedLine(t *testing.T) {
	sdk := errors.New("sdk error\nwith headers")
	tests := []struct {
		name string
		err  *cloud.APIError
		want string
	}{
		{"answer", &cloud.APIError{Action: "CreateRoute", Code: "RouteAlreadyExists", Status: 400, Message: "it\nexists", RequestID: "r-1", Cause: sdk},
			"CreateRoute: RouteAlreadyExists (HTTP 400): it exists [request r-1]"},
		{"no message", &cloud.APIError{Action: "DeleteRoute", Code: "InternalError", Status: 500},
			"DeleteRoute: InternalError (HTTP 500)"},
		{"unanswered", &cloud.APIError{Action: "DescribeVpcs", Code: "Transport", Transport: true, Cause: sdk,
			Unanswered: errors.New("Post \"http://127.0.0.1:1/?AccessKeyId=LTAI-secret&Signature=abc\":\nconnection refused")},
			`DescribeVpcs: Post "http://127.0.0.1:1/?<redacted>": connection refused`},
	}
	for _, tt := range tests {
		got := tt.err.Error()
		if strings.Contains(got, "LTAI-secret") || strings.Contains(got, "\n") {
			t.Errorf("%s: %q leaks a secret or spans lines", tt.name, got)
		}
		if tt.name != "unanswered" && got != tt.want {
			t.Errorf("%s: Error() = %q, want %q", tt.name, got, tt.want)
		}
		if tt.name == "unanswered" && !strings.HasPrefix(got, `DescribeVpcs: Post "http://127.0.0.1:1/`) {
			t.Errorf("%s: Error() = %q, want the transport failure", tt.name, got)
		}
	}
}

func TestAPICodeAndRetryable(t *testing.T) {
	busy := func(code string) bool { return code == "Busy" }
	tests := []struct {
		err       error
		code      string
		retryable bool
	}{
		{errors.New("plain"), "", false},
		{nil, "", false},
		{fmt.Errorf("wrapped: %w", &cloud.APIError{Code: "Busy", Status: 400}), "Busy", true},
		{&cloud.APIError{Code: "QuotaExceeded", Status: 400}, "QuotaExceeded", false},
		{&cloud.APIError{Code: "Whatever", Status: 503}, "Whatever", true},
		{&cloud.APIError{Code: "Transport", Transport: true}, "Transport", true},
	}
	for _, tt := range tests {
		if got := cloud.APICode(tt.err); got != tt.code {
			t.Errorf("APICode(%v) = %q, want %q", tt.err, got, tt.code)
		}
		if got := cloud.RetryableAPIError(tt.err, busy); got != tt.retryable {
			t.Errorf("RetryableAPIError(%v) = %v, want %v", tt.err, got, tt.retryable)
		}
	}
	var api *cloud.APIError
	if cause := errors.New("sdk"); !errors.Is(&cloud.APIError{Cause: cause}, cause) || !errors.As(fmt.Errorf("x: %w", &cloud.APIError{}), &api) {
		t.Error("APIError must unwrap to its SDK error and be found by errors.As")
	}
}
