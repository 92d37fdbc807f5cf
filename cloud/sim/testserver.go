package sim

import (
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// TestServer is a simulator on a loopback httptest server, closed when the
// test ends.
type TestServer struct {
	*Server
	// HTTP is the underlying httptest server.
	HTTP *httptest.Server
	// URL is "http://127.0.0.1:PORT": the Alibaba SDK's endpoint, or the
	// EC2 BaseEndpoint of aws-sdk-go-v2 in an AWS world.
	URL string
	// Domain is "127.0.0.1:PORT", what the SDK's request.Domain takes.
	Domain string

	tb       testing.TB
	mu       sync.Mutex
	metadata map[string]*httptest.Server // per-instance metadata listeners
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
	ts := &TestServer{Server: s, HTTP: hs, URL: hs.URL, Domain: strings.TrimPrefix(hs.URL, "http://"), tb: tb,
		metadata: map[string]*httptest.Server{}}
	tb.Cleanup(func() {
		hs.Close()
		ts.mu.Lock()
		for _, m := range ts.metadata {
			m.Close()
		}
		ts.mu.Unlock()
		if err := s.Close(); err != nil {
			tb.Errorf("close simulator: %v", err)
		}
	})
	return ts
}

// MetadataURL is the metadata base URL answering for one instance, e.g.
// "http://127.0.0.1:PORT/sim/v1/instances/i-aaa"; append
// "/latest/meta-data/instance-id" and the like. aws-sdk-go-v2's imds client
// drops an endpoint's path: give it MetadataEndpoint instead.
func (ts *TestServer) MetadataURL(instanceID string) string {
	return ts.URL + "/sim/v1/instances/" + instanceID
}

// MetadataEndpoint is the root URL ("http://127.0.0.1:PORT2") of a loopback
// listener serving only the metadata service of one instance at
// /latest/..., started on first use and closed with the test server. It is
// what imds.Options.Endpoint (or vpcroute's --metadata-endpoint) takes.
func (ts *TestServer) MetadataEndpoint(instanceID string) string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	m := ts.metadata[instanceID]
	if m == nil {
		m = httptest.NewServer(ts.MetadataHandler(instanceID))
		ts.metadata[instanceID] = m
	}
	return m.URL
}
