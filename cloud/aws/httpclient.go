package aws

import (
	"bytes"
	"fmt"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// ownBodies gives the HTTP transport its own copy of each request body.
//
// The SDK closes a request's body as soon as the answer's headers are in,
// while the transport may still be finishing the request on the same
// connection; in that race the transport drops the connection halfway
// through the answer's body ("use of closed network connection"). With
// aws-sdk-go-v2 1.48 (smithy-go 1.28.9) on Go 1.26 that happened about
// once in 2,000 calls whose answer spans more than one read, e.g. a route
// table of 25 routes. EC2 requests are small forms, so the copy is cheap.
type ownBodies struct {
	next ec2.HTTPClient
}

// Do implements ec2.HTTPClient.
func (c ownBodies) Do(r *http.Request) (*http.Response, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return c.next.Do(r)
	}
	data, err := io.ReadAll(r.Body)
	if cerr := r.Body.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	own := r.Clone(r.Context())
	own.Body = io.NopCloser(bytes.NewReader(data))
	own.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	own.ContentLength = int64(len(data))
	return c.next.Do(own)
}
