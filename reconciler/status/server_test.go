package status

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
)

func TestHandlerPaths(t *testing.T) {
	notReady := errors.New("registry unreachable: etcd 127.0.0.1:2379: connection refused\nsecond line")
	stuck := errors.New("loop reconciler has not run for 5m0s")
	m := NewMetrics("1.4.0")
	healthy := NewHandler(clusterDocument, nil, func() error { return nil }, m)
	sick := NewHandler(clusterDocument, func() error { return stuck }, func() error { return notReady }, nil)

	for _, tc := range []struct {
		name     string
		h        http.Handler
		method   string
		path     string
		code     int
		ctype    string
		contains string
	}{
		{"status", healthy, "GET", "/status", 200, "application/json", `"schemaVersion": "vpcroute.status/v1"`},
		{"status head", healthy, "HEAD", "/status", 200, "application/json", ""},
		{"status query", healthy, "GET", "/status?x=1", 200, "application/json", `"cluster": "prod"`},
		{"metrics", healthy, "GET", "/metrics", 200, "text/plain", `vpcroute_build_info{version="1.4.0"} 1`},
		{"healthz", healthy, "GET", "/healthz", 200, "text/plain", "ok\n"},
		{"readyz", healthy, "GET", "/readyz", 200, "text/plain", "ok\n"},
		{"healthz failing", sick, "GET", "/healthz", 503, "text/plain", "loop reconciler has not run for 5m0s\n"},
		{"readyz failing", sick, "GET", "/readyz", 503, "text/plain", "registry unreachable: etcd 127.0.0.1:2379: connection refused; second line\n"},
		{"no metrics", sick, "GET", "/metrics", 404, "", ""},
		{"root", healthy, "GET", "/", 404, "", ""},
		{"unknown", healthy, "GET", "/debug/pprof/", 404, "", ""},
		{"trailing slash", healthy, "GET", "/status/", 404, "", ""},
		{"post status", healthy, "POST", "/status", 405, "", ""},
		{"put metrics", healthy, "PUT", "/metrics", 405, "", ""},
		{"delete healthz", healthy, "DELETE", "/healthz", 405, "", ""},
		{"post readyz", healthy, "POST", "/readyz", 405, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			tc.h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
			if rec.Code != tc.code {
				t.Fatalf("%s %s: status %d, want %d; body %q", tc.method, tc.path, rec.Code, tc.code, rec.Body.String())
			}
			if ct := rec.Header().Get("Content-Type"); tc.ctype != "" && !strings.HasPrefix(ct, tc.ctype) {
				t.Errorf("Content-Type = %q, want %s", ct, tc.ctype)
			}
			if !strings.Contains(rec.Body.String(), tc.contains) {
				t.Errorf("body does not contain %q:\n%s", tc.contains, rec.Body.String())
			}
			if tc.code == 405 && !strings.Contains(rec.Header().Get("Allow"), "GET") {
				t.Errorf("405 without Allow: GET (Allow %q)", rec.Header().Get("Allow"))
			}
			if tc.code == 503 && strings.Count(rec.Body.String(), "\n") != 1 {
				t.Errorf("503 reason is not one line: %q", rec.Body.String())
			}
		})
	}
}

// /status serves the source's document, with the schema version and the
// generation time filled in, and no null lists.
func TestHandlerStatusDocument(t *testing.T) {
	src := func() Document { return Document{Cluster: "c1", Mode: ModeSelf} }
	rec := httptest.NewRecorder()
	before := time.Now()
	NewHandler(src, nil, nil, nil).ServeHTTP(rec, httptest.NewRequest("GET", "/status", nil))
	body := rec.Body.String()
	if strings.Contains(body, "null") {
		t.Errorf("document has null: %s", body)
	}
	d, err := Decode(rec.Body.Bytes(), "test")
	if err != nil {
		t.Fatal(err)
	}
	if d.SchemaVersion != SchemaVersion || d.Cluster != "c1" || d.Mode != ModeSelf {
		t.Errorf("document = %+v", d)
	}
	if d.Generated.Before(before.Add(-time.Second)) || d.Generated.After(time.Now().Add(time.Second)) {
		t.Errorf("generated = %s, want about now", d.Generated)
	}
	if !strings.HasPrefix(body, "{\n  \"schemaVersion\"") {
		t.Errorf("document is not indented: %.40q", body)
	}
}

func TestServeAndShutdown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	done := make(chan error, 1)
	go func() {
		done <- ServeListener(ctx, ln, NewHandler(selfDocument, nil, nil, NewMetrics("dev")), zap.NewNop())
	}()

	d, err := Fetch(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	if d.Host.Instance != "i-aaa" {
		t.Errorf("fetched host %q, want i-aaa", d.Host.Instance)
	}

	// The address is taken while the server runs.
	if _, err := Listen(addr); err == nil || !strings.Contains(err.Error(), addr) || !strings.Contains(err.Error(), "address already in use") {
		t.Errorf("Listen on a taken address: %v", err)
	}
	if err := Serve(context.Background(), addr, http.NotFoundHandler(), nil); err == nil || !strings.Contains(err.Error(), "--status-addr") {
		t.Errorf("Serve on a taken address: %v", err)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("ServeListener after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ServeListener did not return after its context ended")
	}
	if _, err := Fetch(context.Background(), addr); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("Fetch after shutdown: %v", err)
	}
}

// An in-flight request finishes during a graceful shutdown.
func TestServeShutdownWaitsForRequests(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	entered, release := make(chan struct{}), make(chan struct{})
	slow := func() Document {
		close(entered)
		<-release
		return selfDocument()
	}
	done := make(chan error, 1)
	go func() { done <- ServeListener(ctx, ln, NewHandler(slow, nil, nil, nil), nil) }()

	got := make(chan error, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/status")
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if err == nil && resp.StatusCode != 200 {
				err = errors.New(resp.Status)
			}
		}
		got <- err
	}()
	<-entered
	cancel()
	time.Sleep(50 * time.Millisecond) // let Shutdown start before the request ends
	close(release)
	if err := <-got; err != nil {
		t.Errorf("in-flight request: %v", err)
	}
	if err := <-done; err != nil {
		t.Errorf("ServeListener: %v", err)
	}
}

func TestListenBadAddress(t *testing.T) {
	for _, addr := range []string{"", "9712", "localhost", "http://127.0.0.1:9712"} {
		_, err := Listen(addr)
		if err == nil {
			t.Errorf("Listen(%q) succeeded", addr)
			continue
		}
		if !strings.Contains(err.Error(), "expected host:port") || strings.Contains(err.Error(), "\n") {
			t.Errorf("Listen(%q) error %q, want one line saying host:port is expected", addr, err)
		}
	}
}

// The JSON served is what the Document marshals to; a decoder that knows
// nothing of this package reads the documented field names.
func TestStatusJSONForScripts(t *testing.T) {
	rec := httptest.NewRecorder()
	NewHandler(clusterDocument, nil, nil, nil).ServeHTTP(rec, httptest.NewRequest("GET", "/status", nil))
	var doc struct {
		Host struct {
			HostConfig struct{ State string } `json:"hostConfig"`
		} `json:"host"`
		Reconcile struct {
			Tables []struct {
				ID      string `json:"id"`
				Pending int    `json:"pending"`
			} `json:"tables"`
			DurationNs int64 `json:"durationNs"`
		} `json:"reconcile"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Host.HostConfig.State != "drift" || len(doc.Reconcile.Tables) != 2 || doc.Reconcile.Tables[0].Pending != 1 ||
		doc.Reconcile.DurationNs != int64(1520*time.Millisecond) {
		t.Errorf("script view = %+v", doc)
	}
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}
