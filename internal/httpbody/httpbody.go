// Package httpbody hands HTTP transports request bodies held in memory.
//
// smithy-go (aws-sdk-go-v2) closes a request's body as soon as the
// answer's headers are in, while net/http may still be finishing the
// request on the same connection; its closed body answers the transport's
// last read with an error, on which the transport drops the connection
// halfway through the answer's body ("use of closed network connection").
// A fast local server (the simulator) shows it on large answers such as a
// 1000-route DescribeRouteTables; against EC2, with aws-sdk-go-v2 1.48
// (smithy-go 1.28.9) on Go 1.26, it happened about once in 2,000 calls
// whose answer spans more than one read. A body the transport knows to be
// in memory is written in one go before the server can answer, so the
// race cannot happen. Requests to the clouds are small forms: the copy is
// cheap.
//
// It is a leaf: it imports nothing of vpcroute.
package httpbody

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
)

// InMemory returns r with its body read into memory (Body, GetBody and
// ContentLength set), closing the original body; r itself when it has no
// body. The copy shares r's context.
func InMemory(r *http.Request) (*http.Request, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return r, nil
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
	return own, nil
}

// Transport is an http.RoundTripper that sends every request through
// Next with its body in memory (InMemory).
type Transport struct{ Next http.RoundTripper }

// RoundTrip implements http.RoundTripper.
func (t Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	own, err := InMemory(r)
	if err != nil {
		return nil, err
	}
	return t.Next.RoundTrip(own)
}
