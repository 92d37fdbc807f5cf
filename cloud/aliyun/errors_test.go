package aliyun

import (
	"errors"
	"fmt"
	"net"
	"testing"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
)

func serverError(status int, code string) error {
	body := fmt.Sprintf(`{"RequestId":"req-1","HostId":"vpc.sim","Code":%q,"Message":"m\nline two","Recommend":""}`, code)
	return sdkerrors.NewServerError(status, body, "")
}

func TestRetryable(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"task conflict", serverError(400, "TaskConflict"), true},
		{"operation conflict", serverError(400, "OperationConflict"), true},
		{"entry pending", serverError(400, "IncorrectRouteEntryStatus"), true},
		{"vpc busy", serverError(400, "IncorrectVpcStatus"), true},
		{"distributed lock", serverError(400, "OperationFailed.DistibuteLock"), true},
		{"throttling", serverError(400, "Throttling"), true},
		{"throttling user", serverError(400, "Throttling.User"), true},
		{"throttling api", serverError(400, "Throttling.Api"), true},
		{"unavailable", serverError(503, "ServiceUnavailable"), true},
		{"5xx any code", serverError(500, "InternalError"), true},
		{"quota", serverError(400, "QuotaExceeded"), false},
		{"duplicate", serverError(400, "InvalidCIDRBlock.Duplicate"), false},
		{"forbidden", serverError(403, "Forbidden.RAM"), false},
		{"bad key", serverError(404, "InvalidAccessKeyId.NotFound"), false},
		{"transport", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, true},
		{"sdk timeout", sdkerrors.NewClientError(sdkerrors.TimeoutErrorCode, "timeout", errors.New("i/o timeout")), true},
		{"sdk bad param", sdkerrors.NewClientError(sdkerrors.InvalidParamErrorCode, "bad", nil), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := wrapSDKError("CreateRouteEntry", tt.err)
			if got := retryable(err); got != tt.want {
				t.Errorf("retryable(%v) = %v, want %v", err, got, tt.want)
			}
		})
	}
}

func TestAPIErrorIsOneLine(t *testing.T) {
	err := wrapSDKError("CreateRouteEntry", serverError(400, "QuotaExceeded"))
	want := "CreateRouteEntry: QuotaExceeded (HTTP 400): m line two [request req-1]"
	if err.Error() != want {
		t.Errorf("got %q, want %q", err.Error(), want)
	}
	if codeOf(err) != "QuotaExceeded" {
		t.Errorf("codeOf = %q", codeOf(err))
	}
}
