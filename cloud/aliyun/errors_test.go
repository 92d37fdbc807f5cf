package aliyun

import (
	"errors"
	"fmt"
	"net"
	"testing"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"

	"github.com/vpcroute/vpcroute/cloud"
)

func serverError(status int, code string) error {
	body := fmt.Sprintf(`{"RequestId":"req-1","HostId":"vpc.sim","Code":%q,"Message":"m\nline two","Recommend":""}`, code)
	return sdkerrors.NewServerError(status, body, "")
}

func TestRetryableAndOutcome(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		want    bool
		outcome string
	}{
		{"task conflict", serverError(400, "TaskConflict"), true, cloud.OutcomeBusy},
		{"operation conflict", serverError(400, "OperationConflict"), true, cloud.OutcomeBusy},
		{"entry pending", serverError(400, "IncorrectRouteEntryStatus"), true, cloud.OutcomeBusy},
		{"vpc busy", serverError(400, "IncorrectVpcStatus"), true, cloud.OutcomeBusy},
		{"distributed lock", serverError(400, "OperationFailed.DistibuteLock"), true, cloud.OutcomeBusy},
		{"throttling", serverError(400, "Throttling"), true, cloud.OutcomeThrottled},
		{"throttling user", serverError(400, "Throttling.User"), true, cloud.OutcomeThrottled},
		{"throttling api", serverError(400, "Throttling.Api"), true, cloud.OutcomeThrottled},
		{"unavailable", serverError(503, "ServiceUnavailable"), true, cloud.OutcomeError},
		{"5xx any code", serverError(500, "InternalError"), true, cloud.OutcomeError},
		{"quota", serverError(400, "QuotaExceeded"), false, cloud.OutcomeError},
		{"duplicate", serverError(400, "InvalidCIDRBlock.Duplicate"), false, cloud.OutcomeError},
		{"forbidden", serverError(403, "Forbidden.RAM"), false, cloud.OutcomeError},
		{"bad key", serverError(404, "InvalidAccessKeyId.NotFound"), false, cloud.OutcomeError},
		{"transport", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, true, cloud.OutcomeError},
		{"sdk timeout", sdkerrors.NewClientError(sdkerrors.TimeoutErrorCode, "timeout", errors.New("i/o timeout")), true, cloud.OutcomeError},
		{"sdk bad param", sdkerrors.NewClientError(sdkerrors.InvalidParamErrorCode, "bad", nil), false, cloud.OutcomeError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := wrapSDKError("CreateRouteEntry", tt.err)
			if got := retryable(err); got != tt.want {
				t.Errorf("retryable(%v) = %v, want %v", err, got, tt.want)
			}
			if got := outcomeOf("CreateRouteEntry", tt.err); got != tt.outcome {
				t.Errorf("outcomeOf(%v) = %q, want %q", err, got, tt.outcome)
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
