package status

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/vpcroute/vpcroute/cloud"
)

// DefaultAddr is where the daemon serves status unless --status-addr says
// otherwise: loopback, so nothing is exposed by default.
const DefaultAddr = "127.0.0.1:9712"

// shutdownGrace bounds how long Serve waits for in-flight requests after
// its context ends; a scrape or /status takes milliseconds.
const shutdownGrace = 5 * time.Second

// NewHandler serves the daemon's endpoints:
//
//	GET /status   the Document from src, as indented JSON
//	GET /metrics  m's registry (404 when m is nil)
//	GET /healthz  200 "ok" while live() is nil, else 503 and the reason
//	GET /readyz   200 "ok" while ready() is nil, else 503 and the reason
//
// HEAD is answered like GET; any other method gets 405, any other path 404.
// A nil live or ready always passes. src is called once per request and
// must be safe for concurrent use.
func NewHandler(src func() Document, live, ready func() error, m *Metrics) http.Handler {
	mux := http.NewServeMux()
	// "GET" patterns also match HEAD; the mux answers 405 with an Allow
	// header for other methods on these paths and 404 for other paths.
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) {
		serveDocument(w, src())
	})
	if m != nil {
		mux.Handle("GET /metrics", m.Handler())
	}
	mux.HandleFunc("GET /healthz", checkHandler(live))
	mux.HandleFunc("GET /readyz", checkHandler(ready))
	return mux
}

func serveDocument(w http.ResponseWriter, d Document) {
	d = d.normalized().redacted()
	if d.Generated.IsZero() {
		d.Generated = time.Now().UTC()
	}
	body, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		// Only a bug (an unmarshalable value) gets here.
		http.Error(w, "encode status: "+oneLine(err.Error()), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(append(body, '\n')) // a client that went away is not our error
}

func checkHandler(check func() error) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if check != nil {
			if err := check(); err != nil {
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = fmt.Fprintf(w, "%s\n", cloud.Redact(oneLine(err.Error())))
				return
			}
		}
		_, _ = fmt.Fprint(w, "ok\n")
	}
}

// Listen opens the status address, so that a daemon can fail at start,
// before doing anything else, when the address is taken or malformed.
func Listen(addr string) (net.Listener, error) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, fmt.Errorf("status address %q: expected host:port, e.g. %s", addr, DefaultAddr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("status address %s: %w (another vpcroute daemon running? choose another --status-addr)", addr, err)
	}
	return ln, nil
}

// ServeListener serves h on ln until ctx ends, then shuts down gracefully:
// in-flight requests get a few seconds to finish. It closes ln and returns
// nil after a shutdown caused by ctx, or the server's error.
func ServeListener(ctx context.Context, ln net.Listener, h http.Handler, log *zap.Logger) error {
	if log == nil {
		log = zap.NewNop()
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		ErrorLog:          zap.NewStdLog(log.Named("status-http")),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("serving status", zap.String("addr", ln.Addr().String()))

	select {
	case err := <-errc:
		return fmt.Errorf("status server on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		// Requests still running after the grace period are cut off.
		_ = srv.Close()
		return fmt.Errorf("status server on %s: shutdown: %w", ln.Addr(), err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("status server on %s: %w", ln.Addr(), err)
	}
	return nil
}

// Serve listens on addr and serves h until ctx ends (Listen, then
// ServeListener).
func Serve(ctx context.Context, addr string, h http.Handler, log *zap.Logger) error {
	ln, err := Listen(addr)
	if err != nil {
		return err
	}
	return ServeListener(ctx, ln, h, log)
}
