package aws

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

const (
	leakToken = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD6leak"
	leakSig   = "fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024"
)

// signedURL is a request URL with presigned credentials in its query and
// a user in its authority, as transport errors quote it.
var signedURL = "https://admin:hunter2@ec2.example.test/?Action=DescribeRouteTables&X-Amz-Credential=ASIAQNZGKTHEXAMPLE7Q%2F20261206%2Fus-east-1%2Fec2%2Faws4_request" +
	"&X-Amz-Security-Token=" + url.QueryEscape(leakToken) + "&X-Amz-Signature=" + leakSig

// TestErrorsCarryNoCredentials: the text of every *APIError and of a
// metadata failure is scrubbed, whatever the SDK put in it; the error
// keeps its code and type.
func TestErrorsCarryNoCredentials(t *testing.T) {
	leaks := []string{leakToken, url.QueryEscape(leakToken), leakSig, "ASIAQNZGKTHEXAMPLE7Q", "hunter2"}
	urlErr := &url.Error{Op: "Get", URL: signedURL, Err: errors.New("EOF")}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"transport", wrapSDKError("DescribeRouteTables", &smithy.OperationError{ServiceID: "EC2", OperationName: "DescribeRouteTables",
			Err: &smithyhttp.RequestSendError{Err: urlErr}}),
			`DescribeRouteTables: Get "https://[redacted]@ec2.example.test/?[redacted]": EOF`},
		{"client", wrapSDKError("DescribeRouteTables", &smithy.OperationError{ServiceID: "EC2", OperationName: "DescribeRouteTables",
			Err: errors.New("failed to sign request: X-Amz-Security-Token=" + leakToken)}),
			"DescribeRouteTables: failed to sign request: X-Amz-Security-Token=[redacted]"},
		{"api message", wrapSDKError("CreateRoute", apiErr("CreateRoute", 400, "InvalidParameterValue", "bad value "+signedURL)),
			"CreateRoute: InvalidParameterValue (HTTP 400): bad value https://[redacted]@ec2.example.test/?[redacted] [request req-InvalidParameterValue]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err.Error() != tt.want {
				t.Errorf("error %q, want %q", tt.err, tt.want)
			}
			for _, leak := range leaks {
				if strings.Contains(tt.err.Error(), leak) {
					t.Errorf("%q leaked: %s", leak, tt.err)
				}
			}
			var api *APIError
			if !errors.As(tt.err, &api) {
				t.Errorf("not an *APIError: %#v", tt.err)
			}
		})
	}

	_, err := readMetadata(context.Background(), failingMetadata{urlErr}, "mac")
	if err == nil || strings.Contains(err.Error(), leakToken) || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("metadata error: %v", err)
	}
}

type failingMetadata struct{ err error }

func (f failingMetadata) GetMetadata(context.Context, *imds.GetMetadataInput, ...func(*imds.Options)) (*imds.GetMetadataOutput, error) {
	return nil, f.err
}
