package sim

import (
	"errors"
	"fmt"
	"net/http"
)

// ErrNotFound is wrapped by the admin operations when the named table
// entry or instance does not exist.
var ErrNotFound = errors.New("not found")

// Error codes the simulator answers with, Alibaba Cloud's own. Where the
// API reference documents a rule but not its code, the closest documented
// code is used (see doc.go). The two marked "sim" answer a request the
// real API serves and the simulator does not simulate: they describe the
// simulator, not the cloud.
const (
	CodeInvalidAccessKeyID       = "InvalidAccessKeyId.NotFound"
	CodeSignatureDoesNotMatch    = "SignatureDoesNotMatch"
	CodeSecurityTokenExpired     = "InvalidSecurityToken.Expired"
	CodeSecurityTokenMismatch    = "InvalidSecurityToken.MismatchWithAccessKey"
	CodeMissingParameter         = "MissingParameter"
	CodeInvalidParameter         = "InvalidParameter"
	CodeInvalidAction            = "InvalidAction.NotFound"
	CodeInvalidRegion            = "InvalidRegionId.NotFound"
	CodeIncorrectEntryStatus     = "IncorrectRouteEntryStatus"
	CodeTaskConflict             = "TaskConflict"
	CodeOperationConflict        = "OperationConflict"
	CodeQuotaExceeded            = "QuotaExceeded"
	CodeDuplicate                = "InvalidCIDRBlock.Duplicate"
	CodeEntryNotFound            = "InvalidRouteEntry.NotFound"
	CodeTableNotFound            = "InvalidRouteTableId.NotFound"
	CodeCIDRMalformed            = "InvalidDestinationCidrBlock.Malformed"
	CodeCIDROverlapped           = "InvalidCidrBlock.Overlapped"
	CodeInstanceNotFound         = "InvalidInstanceId.NotFound"
	CodeInstanceIDsMalformed     = "InvalidInstanceIds.Malformed"
	CodeNextHopTypeInvalid       = "IllegalParam.NextHopType"
	CodeNextTokenInvalid         = "IllegalParam.NextToken"
	CodeNameMalformed            = "InvalidRouteEntryName.Malformed"
	CodeDescriptionMalformed     = "InvalidDescription.Malformed"
	CodeSystemEntry              = "OperationDenied"
	CodeUnsupportedModification  = "OperationUnsupported.ModifyNextHop" // sim
	CodeUnsupportedECMP          = "OperationUnsupported.NextHopList"   // sim
	CodeThrottling               = "Throttling.User"
	CodeServiceUnavailable       = "ServiceUnavailable"
	outcomeOK                    = "ok"
	outcomeTransportError        = "TransportError"
	defaultRecommendationMessage = "vpcroute-sim: see the simulator's doc.go for the rule behind this code"
)

// apiError is an error answered to an RPC caller. It renders as the body the
// SDK's errors.NewServerError parses.
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
}

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func badRequest(code, format string, args ...any) *apiError {
	return errorf(http.StatusBadRequest, code, format, args...)
}

func notFound(code, format string, args ...any) *apiError {
	return errorf(http.StatusNotFound, code, format, args...)
}

func missingParam(name string) *apiError {
	return badRequest(CodeMissingParameter,
		"The input parameter %q that is mandatory for processing this request is not supplied.", name)
}

func invalidParam(name, value, expected string) *apiError {
	return badRequest(CodeInvalidParameter, "The parameter %s=%q is invalid: expected %s.", name, value, expected)
}

// errorBody is the JSON error document. Every field is a string: the SDK
// type-asserts each to string and panics otherwise.
type errorBody struct {
	RequestID string `json:"RequestId"`
	HostID    string `json:"HostId"`
	Code      string `json:"Code"`
	Message   string `json:"Message"`
	Recommend string `json:"Recommend"`
}
