package sim

import (
	"encoding/xml"
	"fmt"
	"net/http"
)

// EC2 error codes the simulator answers with, all EC2's own.
// MissingParameter is CodeMissingParameter, shared with Alibaba.
const (
	CodeAuthFailure                 = "AuthFailure"
	CodeRequestExpired              = "RequestExpired"
	CodeUnauthorizedOperation       = "UnauthorizedOperation"
	CodeRequestLimitExceeded        = "RequestLimitExceeded"
	CodeRouteAlreadyExists          = "RouteAlreadyExists"
	CodeRouteNotFound               = "InvalidRoute.NotFound"
	CodeRouteLimitExceeded          = "RouteLimitExceeded"
	CodeRouteTableNotFound          = "InvalidRouteTableID.NotFound"
	CodeENINotFound                 = "InvalidNetworkInterfaceID.NotFound"
	CodeEC2InstanceNotFound         = "InvalidInstanceID.NotFound"
	CodeInvalidInstanceID           = "InvalidInstanceID"
	CodeVpcNotFound                 = "InvalidVpcID.NotFound"
	CodeSubnetNotFound              = "InvalidSubnetID.NotFound"
	CodeInvalidParameterValue       = "InvalidParameterValue"
	CodeInvalidParameterCombination = "InvalidParameterCombination"
	CodeInvalidID                   = "InvalidID"
	CodeMissingAction               = "MissingAction"
	CodeInvalidEC2Action            = "InvalidAction"
	CodeTagLimitExceeded            = "TagLimitExceeded"
	CodeFilterLimitExceeded         = "FilterLimitExceeded"
	CodeDryRunOperation             = "DryRunOperation"
)

// ec2Status is the HTTP status EC2 answers a code with: 503 for throttling
// and unavailability (the SDK retries both), 500 for internal errors, 401
// and 403 for authentication and authorization, 412 for a dry run, 400 for
// every other client error.
func ec2Status(code string) int {
	switch code {
	case CodeRequestLimitExceeded, "Unavailable", CodeServiceUnavailable:
		return http.StatusServiceUnavailable
	case "InternalError", "InternalFailure":
		return http.StatusInternalServerError
	case CodeAuthFailure:
		return http.StatusUnauthorized
	case CodeUnauthorizedOperation, "OptInRequired", "Blocked":
		return http.StatusForbidden
	case CodeDryRunOperation:
		return http.StatusPreconditionFailed
	}
	return http.StatusBadRequest
}

// ec2Err builds an EC2 error with the status its code takes.
func ec2Err(code, format string, args ...any) *apiError {
	return &apiError{Status: ec2Status(code), Code: code, Message: fmt.Sprintf(format, args...)}
}

func ec2Missing(name string) *apiError {
	return ec2Err(CodeMissingParameter, "The request must contain the parameter %s", name)
}

func ec2Invalid(name, value, expected string) *apiError {
	return ec2Err(CodeInvalidParameterValue, "Value (%s) for parameter %s is invalid. Expected %s.", value, name, expected)
}

// ec2ErrorBody is the error document aws-sdk-go-v2's ec2query package
// parses: Response/Errors/Error/{Code,Message} and Response/RequestID.
type ec2ErrorBody struct {
	XMLName   xml.Name `xml:"Response"`
	Code      string   `xml:"Errors>Error>Code"`
	Message   string   `xml:"Errors>Error>Message"`
	RequestID string   `xml:"RequestID"`
}
