package sim

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/vpcroute/vpcroute/internal/httpbody"
)

// LoopbackHTTPClient returns an HTTP client for SDK clients that talk to
// the simulator in tests: it dials only loopback addresses (so a client
// that falls back to a real endpoint, 169.254.169.254 or
// *.amazonaws.com fails at once instead of leaving the machine) and it
// sends request bodies from memory.
//
// The second point works around a race between aws-sdk-go-v2 and
// net/http that only a fast local server exposes: smithy-go closes the
// request body as soon as the response headers arrive, and its closed body
// answers the transport's final read with an io.EOF error, on which the
// transport closes the connection while the response body is still being
// read ("use of closed network connection" on large answers such as a
// 1000-route DescribeRouteTables). A body the transport knows to be in
// memory (internal/httpbody) is written in one go before the server can
// answer, so the race cannot happen.
func LoopbackHTTPClient() *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
				return nil, fmt.Errorf("simulator client refuses to dial %s: only loopback addresses are allowed", addr)
			}
			return d.DialContext(ctx, network, addr)
		},
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     30 * time.Second,
	}
	return &http.Client{Timeout: 30 * time.Second, Transport: httpbody.Transport{Next: tr}}
}
