package sim

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// Listen opens a listener from a spec: "HOST:PORT" (TCP) or
// "unix:/path/to.sock". A stale socket file at the path is replaced; any
// other file there is an error.
func Listen(spec string) (net.Listener, error) {
	if path, ok := strings.CutPrefix(spec, "unix:"); ok {
		if path == "" {
			return nil, paramError("listen", spec, "unix:/path/to.sock")
		}
		if fi, err := os.Lstat(path); err == nil {
			if fi.Mode().Type() != fs.ModeSocket {
				return nil, paramError("listen", spec, "a path that is free or holds a stale socket, not a "+fi.Mode().Type().String()+" file")
			}
			if err := os.Remove(path); err != nil {
				return nil, fmt.Errorf("listen %s: remove stale socket: %w", spec, err)
			}
		}
		l, err := net.Listen("unix", path)
		if err != nil {
			return nil, fmt.Errorf("listen %s: %w", spec, err)
		}
		return l, nil
	}
	if _, _, err := net.SplitHostPort(spec); err != nil {
		return nil, paramError("listen", spec, "HOST:PORT (such as 127.0.0.1:0) or unix:/path/to.sock")
	}
	l, err := net.Listen("tcp", spec)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", spec, err)
	}
	return l, nil
}

// ListenerAddr renders a listener's address the way Listen takes it.
func ListenerAddr(l net.Listener) string {
	if l.Addr().Network() == "unix" {
		return "unix:" + l.Addr().String()
	}
	return l.Addr().String()
}

// ServeEndpoints is Serve with per-instance metadata listeners.
func (s *Server) ServeEndpoints(ctx context.Context, endpoints ...Endpoint) error {
	srvs := make([]*http.Server, 0, len(endpoints))
	errc := make(chan error, len(endpoints))
	for _, ep := range endpoints {
		h := s.Handler()
		if ep.Instance != "" {
			h = s.MetadataHandler(ep.Instance)
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		srvs = append(srvs, srv)
		go func(l net.Listener) {
			if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("serve %s: %w", ListenerAddr(l), err)
			}
		}(ep.Listener)
	}
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	errs := []error{serveErr}
	for _, srv := range srvs {
		if err := srv.Shutdown(shutCtx); err != nil {
			errs = append(errs, fmt.Errorf("shut down: %w", err))
		}
	}
	if err := s.Close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// MetadataHandler serves the metadata service of one instance at /latest/...
// (ECS metadata, or IMDSv2 in an AWS world), whatever the caller's
// address. aws-sdk-go-v2's imds client replaces the path of its Endpoint,
// so it cannot use the /sim/v1/instances/<id> prefix; give it a listener of
// its own serving this handler instead (vpcroute-sim --metadata-listen,
// TestServer.MetadataEndpoint).
func (s *Server) MetadataHandler(instanceID string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/latest/") {
			http.Error(w, "metadata of "+instanceID+": only /latest/... is served here", http.StatusNotFound)
			return
		}
		s.serveMetadata(w, r, instanceID, r.URL.Path)
	})
}

// Endpoint is a listener and what it serves: every API of the simulator,
// or (Instance set) only the metadata service of that instance.
type Endpoint struct {
	Listener net.Listener
	Instance string
}

// Serve answers on every listener until ctx ends, then shuts the HTTP
// servers down (waiting up to 5s for calls in flight) and closes the
// simulator. It returns the first serving error, if any.
func (s *Server) Serve(ctx context.Context, listeners ...net.Listener) error {
	eps := make([]Endpoint, 0, len(listeners))
	for _, l := range listeners {
		eps = append(eps, Endpoint{Listener: l})
	}
	return s.ServeEndpoints(ctx, eps...)
}
