package sim

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// TestServer is a simulator on a loopback httptest server, closed when the
// test ends.
type TestServer struct {
	*Server
	// HTTP is the underlying httptest server.
	HTTP *httptest.Server
	// URL is "http://127.0.0.1:PORT".
	URL string
	// Domain is "127.0.0.1:PORT", what the SDK's request.Domain takes.
	Domain string
}

// NewTestServer starts a simulator for the topology on loopback. The test
// fails at once if the topology is invalid.
func NewTestServer(tb testing.TB, topo Topology, opts ...Option) *TestServer {
	tb.Helper()
	s, err := New(topo, opts...)
	if err != nil {
		tb.Fatalf("start simulator: %v", err)
	}
	hs := httptest.NewServer(s.Handler())
	tb.Cleanup(func() {
		hs.Close()
		if err := s.Close(); err != nil {
			tb.Errorf("close simulator: %v", err)
		}
	})
	return &TestServer{Server: s, HTTP: hs, URL: hs.URL, Domain: strings.TrimPrefix(hs.URL, "http://")}
}

// MetadataURL is the metadata base URL answering for one instance, e.g.
// "http://127.0.0.1:PORT/sim/v1/instances/i-aaa"; append
// "/latest/meta-data/instance-id" and the like.
func (ts *TestServer) MetadataURL(instanceID string) string {
	return ts.URL + "/sim/v1/instances/" + instanceID
}
