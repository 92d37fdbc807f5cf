package aws

import (
	"net/http"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/vpcroute/vpcroute/internal/httpbody"
)

// ownBodies gives the HTTP transport its own copy of each request body:
// the SDK closes a request's body as soon as the answer's headers are in,
// which can make the transport drop the connection halfway through the
// answer (see internal/httpbody).
type ownBodies struct {
	next ec2.HTTPClient
}

// Do implements ec2.HTTPClient.
func (c ownBodies) Do(r *http.Request) (*http.Response, error) {
	own, err := httpbody.InMemory(r)
	if err != nil {
		return nil, err
	}
	return c.next.Do(own)
}
