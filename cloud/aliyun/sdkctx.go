package aliyun

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"

	"github.com/vpcroute/vpcroute/cloud"
)

// The SDK's calls take no context, yet a write must end with the
// leadership term that decided it, on the wire too. Each call therefore
// carries an ID in a request header: the SDK copies request headers into
// the HTTP request, and the RPC signature covers only the query and form
// parameters, so the header changes nothing the cloud checks. ctxTransport,
// the clients' HTTP transport, finds the call's context by that ID, strips
// the header and sends the request under the context, so that an ended
// term cancels the HTTP request itself rather than leaving it to finish in
// the background.

// callHeader carries a call's ID from boundCall to ctxTransport. It is
// spelled canonically: the SDK puts request headers into http.Header as
// they are spelled, and Header.Get looks for the canonical form.
const callHeader = "X-Vpcroute-Call"

// connectTimeout bounds a TCP connect, as the SDK's own transport does.
const connectTimeout = 5 * time.Second

// callContexts maps the ID of each call in flight to its context.
type callContexts struct {
	mu   sync.Mutex
	next uint64
	ctxs map[string]context.Context
}

func newCallContexts() *callContexts {
	return &callContexts{ctxs: map[string]context.Context{}}
}

// bind registers ctx under a new ID, puts the ID into req's headers and
// returns the function that undoes both once the call has returned.
func (c *callContexts) bind(ctx context.Context, req requests.AcsRequest) (release func()) {
	c.mu.Lock()
	c.next++
	id := strconv.FormatUint(c.next, 10)
	c.ctxs[id] = ctx
	c.mu.Unlock()
	req.GetHeaders()[callHeader] = id
	return func() {
		delete(req.GetHeaders(), callHeader)
		c.mu.Lock()
		delete(c.ctxs, id)
		c.mu.Unlock()
	}
}

func (c *callContexts) lookup(id string) (context.Context, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ctx, ok := c.ctxs[id]
	return ctx, ok
}

// ctxTransport sends each SDK request under its call's context.
type ctxTransport struct {
	calls *callContexts
	base  http.RoundTripper
}

// newCtxTransport returns the transport of the SDK clients. The base is
// what the SDK would build itself: a connect timeout, proxies from the
// environment, certificates verified, HTTP/1.1. The clients' own timeout
// still bounds each call.
func newCtxTransport(calls *callContexts) *ctxTransport {
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.DialContext = (&net.Dialer{Timeout: connectTimeout, KeepAlive: 30 * time.Second}).DialContext
	base.ForceAttemptHTTP2 = false
	base.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	return &ctxTransport{calls: calls, base: base}
}

// RoundTrip implements http.RoundTripper. A request without a call ID
// (none is sent that way) goes as it is; one whose ID is unknown is
// refused rather than sent outside any term.
func (t *ctxTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	id := req.Header.Get(callHeader)
	if id == "" {
		return t.base.RoundTrip(req)
	}
	callCtx, ok := t.calls.lookup(id)
	if !ok {
		if req.Body != nil {
			_ = req.Body.Close() // a RoundTripper must close the body, even on error
		}
		return nil, fmt.Errorf("call %s has no context: not sent", id)
	}
	// The request's own context carries the client's timeout: keep it, and
	// end it as well when the call's context ends.
	ctx, cancel := context.WithCancelCause(req.Context())
	stop := context.AfterFunc(callCtx, func() { cancel(context.Cause(callCtx)) })
	release := func() {
		stop()
		cancel(nil)
	}
	out := req.Clone(ctx) // a RoundTripper must not change req
	out.Header.Del(callHeader)
	resp, err := t.base.RoundTrip(out)
	if err != nil {
		release()
		return nil, err
	}
	// The answer is read after RoundTrip returns: the context must live
	// until then.
	resp.Body = &releasingBody{ReadCloser: resp.Body, release: release}
	return resp, nil
}

// releasingBody runs release once the body is read to its end or closed.
type releasingBody struct {
	io.ReadCloser
	release func()
	once    sync.Once
}

func (b *releasingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.once.Do(b.release)
	}
	return n, err
}

func (b *releasingBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.release)
	return err
}

// boundCall runs one SDK call under ctx. An error once ctx has ended is
// reported as the ended ctx: the SDK's own text says less, and quotes the
// signed request URL.
func boundCall[Req requests.AcsRequest, Resp any](ctx context.Context, calls *callContexts, req Req,
	call func(Req) (Resp, error)) (Resp, error) {
	release := calls.bind(ctx, req)
	defer release()
	resp, err := call(req)
	if err != nil && ctx.Err() != nil {
		return resp, cloud.Stopped(ctx, "request cut short")
	}
	return resp, err
}
