package status

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestFetch(t *testing.T) {
	want := clusterDocument().normalized()
	srv := httptest.NewServer(NewHandler(clusterDocument, nil, nil, nil))
	defer srv.Close()
	hostport := strings.TrimPrefix(srv.URL, "http://")
	for _, addr := range []string{hostport, srv.URL, srv.URL + "/", srv.URL + "/status"} {
		got, err := Fetch(context.Background(), addr)
		if err != nil {
			t.Errorf("Fetch(%q): %v", addr, err)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Fetch(%q) = %+v\nwant %+v", addr, got, want)
		}
	}
}

func TestFetchErrors(t *testing.T) {
	serve := func(code int, body string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/status" {
				http.NotFound(w, r)
				return
			}
			w.WriteHeader(code)
			_, _ = w.Write([]byte(body))
		}))
		t.Cleanup(srv.Close)
		return strings.TrimPrefix(srv.URL, "http://")
	}
	v2 := `{"schemaVersion":"vpcroute.status/v2","host":"renamed to a string in v2"}`
	for _, tc := range []struct {
		name, addr, want string
	}{
		{"v2", serve(200, v2), `schemaVersion "vpcroute.status/v2" is not supported; this vpcroute reads vpcroute.status/v1`},
		{"v0", serve(200, `{"schemaVersion":"vpcroute.status/v0"}`), `schemaVersion "vpcroute.status/v0" is not a vpcroute status schema`},
		{"other schema", serve(200, `{"schemaVersion":"acme/v1"}`), `schemaVersion "acme/v1" is not a vpcroute status schema; expected vpcroute.status/v1`},
		{"no schema", serve(200, `{"status":"ok"}`), "not a vpcroute status document (no schemaVersion; expected vpcroute.status/v1)"},
		{"not json", serve(200, "<html>hello</html>"), "not a vpcroute status document (invalid JSON"},
		{"v1 wrong types", serve(200, `{"schemaVersion":"vpcroute.status/v1","hosts":"x"}`), "decode vpcroute.status/v1 document"},
		{"http error", serve(503, "registry down\nmore"), "HTTP 503: registry down"},
		{"refused", freeAddr(t), "connection refused (is the daemon running, and is this its --status-addr?)"},
		{"empty", "", "status address is empty: expected host:port"},
		{"no port", "localhost", `status address "localhost": expected host:port`},
		{"bad scheme", "ftp://127.0.0.1:1/", `status address "ftp://127.0.0.1:1/": expected host:port`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Fetch(context.Background(), tc.addr)
			if err == nil {
				t.Fatalf("Fetch(%q) succeeded", tc.addr)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\nwant it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

// A later additive v1 (v1.N, new fields) is read; unknown fields ignored.
func TestDecodeAdditiveV1(t *testing.T) {
	raw := `{"schemaVersion":"vpcroute.status/v1.3","cluster":"prod","someNewField":{"a":1},"host":{"instance":"i-a","newHostField":true}}`
	d, err := Decode([]byte(raw), "test")
	if err != nil {
		t.Fatal(err)
	}
	if d.Cluster != "prod" || d.Host.Instance != "i-a" {
		t.Errorf("decoded %+v", d)
	}
}

func TestFetchTimeout(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-block }))
	defer srv.Close()
	defer close(block)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := Fetch(ctx, srv.URL)
	if err == nil || !strings.Contains(err.Error(), "no answer in time") {
		t.Errorf("Fetch of a silent server: %v", err)
	}
}

func TestStatusURL(t *testing.T) {
	for addr, want := range map[string]string{
		"127.0.0.1:9712":                   "http://127.0.0.1:9712/status",
		"[::1]:9712":                       "http://[::1]:9712/status",
		"http://10.0.0.5:9712":             "http://10.0.0.5:9712/status",
		"https://status.example.test/":     "https://status.example.test/status",
		"http://127.0.0.1:9712/v/status":   "http://127.0.0.1:9712/v/status",
		"http://127.0.0.1:9712/status?a=b": "http://127.0.0.1:9712/status?a=b",
	} {
		got, err := statusURL(addr)
		if err != nil || got != want {
			t.Errorf("statusURL(%q) = %q, %v; want %q", addr, got, err, want)
		}
	}
}

// Fetch reads exactly what Render needs: a fetched document renders the
// same as the source document.
func TestFetchThenRender(t *testing.T) {
	srv := httptest.NewServer(NewHandler(clusterDocument, nil, nil, nil))
	defer srv.Close()
	d, err := Fetch(context.Background(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	var fetched, direct strings.Builder
	if err := Render(&fetched, d); err != nil {
		t.Fatal(err)
	}
	if err := Render(&direct, clusterDocument()); err != nil {
		t.Fatal(err)
	}
	if fetched.String() != direct.String() {
		t.Errorf("rendering differs after fetch:\n%s\n---\n%s", fetched.String(), direct.String())
	}
	if _, err := json.Marshal(d); err != nil {
		t.Error(err)
	}
}
