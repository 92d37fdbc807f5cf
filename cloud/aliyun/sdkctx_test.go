package aliyun

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/vpc"

	"github.com/vpcroute/vpcroute/cloud"
)

// hangTimeout only keeps a broken test from hanging; nothing is timed.
const hangTimeout = 10 * time.Second

// boundClient is the real SDK VPC client on srv, through ctxTransport.
func boundClient(t *testing.T, srv *httptest.Server) (observedVPC, *callContexts) {
	t.Helper()
	calls := newCallContexts()
	cfg := sdk.NewConfig().WithScheme("HTTP").WithAutoRetry(false).WithTimeout(time.Minute)
	cfg.Transport = newCtxTransport(calls)
	c, err := vpc.NewClientWithOptions("cn-zhangjiakou", cfg, credentials.NewAccessKeyCredential("LTAI-test", "test-secret"))
	if err != nil {
		t.Fatal(err)
	}
	c.Domain = strings.TrimPrefix(srv.URL, "http://")
	return observedVPC{api: c, seam: seam{obs: cloud.NopObserver{}, calls: calls}}, calls
}

// TestTransportCancelsTheRequestOnTheWire: when the call's context ends,
// the HTTP request itself is cancelled (the server sees the client hang
// up), instead of the call finishing in the background.
func TestTransportCancelsTheRequestOnTheWire(t *testing.T) {
	arrived, hungUp := make(chan http.Header, 1), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- r.Header.Clone()
		select {
		case <-r.Context().Done():
			close(hungUp)
		case <-time.After(hangTimeout):
		}
	}))
	defer srv.Close()
	api, calls := boundClient(t, srv)

	errDeposed := errors.New("leadership lost")
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	done := make(chan error, 1)
	go func() {
		_, err := api.CreateRouteEntry(ctx, vpc.CreateCreateRouteEntryRequest())
		done <- err
	}()
	header := <-arrived
	cancel(errDeposed)
	var err error
	select {
	case err = <-done:
	case <-time.After(hangTimeout):
		t.Fatal("the call did not return when its context ended")
	}
	select {
	case <-hungUp:
	case <-time.After(hangTimeout):
		t.Fatal("the server never saw the request cancelled")
	}
	if !errors.Is(err, context.Canceled) || !errors.Is(err, errDeposed) || strings.Contains(err.Error(), "Signature") {
		t.Errorf("err = %v; want the ended context and its cause, without the request URL", err)
	}
	if v := header.Get(callHeader); v != "" {
		t.Errorf("the call ID header reached the server: %s=%s", callHeader, v)
	}
	if n := len(calls.ctxs); n != 0 {
		t.Errorf("%d call contexts left registered after the call", n)
	}
}

// TestTransportRefusesAnUnknownCall: a request whose call ID is not
// registered is not sent at all, rather than sent outside any term.
func TestTransportRefusesAnUnknownCall(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()
	tr := newCtxTransport(newCallContexts())
	req, err := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(callHeader, "42")
	if resp, err := tr.RoundTrip(req); err == nil || !strings.Contains(err.Error(), "call 42 has no context: not sent") {
		if resp != nil {
			resp.Body.Close()
		}
		t.Errorf("RoundTrip = %v; want it refused", err)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the server got %d requests", n)
	}
}
