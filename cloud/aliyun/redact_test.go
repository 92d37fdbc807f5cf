package aliyun

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/vpcroute/vpcroute/cloud/sim"
)

// roleCredentials reads the STS credentials the simulator hands instance
// through its metadata, as the provider does: the simulator keeps handing
// out the same ones until half their lifetime has passed.
func (f *fixture) roleCredentials(t *testing.T, instance string) ramCredentials {
	t.Helper()
	get := func(path string) string {
		resp, err := http.Get(f.url + "/sim/v1/instances/" + instance + "/latest/meta-data/ram/security-credentials/" + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("metadata %s: HTTP %d %v: %s", path, resp.StatusCode, err, b)
		}
		return strings.TrimSpace(string(b))
	}
	var rc ramCredentials
	if err := json.Unmarshal([]byte(get(get(""))), &rc); err != nil || rc.SecurityToken == "" {
		t.Fatalf("role credentials: %v %+v", err, rc)
	}
	return rc
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
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

// TestTransportErrorsCarryNoCredentials: when no answer comes back, the
// SDK's error is the signed request URL, whose query holds the role's
// access key, security token and signature. Neither the returned error
// nor the retry log may hold them; the error still names the endpoint and
// the failure, and is still an *APIError marked Transport.
func TestTransportErrorsCarryNoCredentials(t *testing.T) {
	f := newFixture(t, nil)
	creds := f.roleCredentials(t, "i-aaa")
	secrets := map[string]string{
		"AccessKeyId": creds.AccessKeyID, "AccessKeySecret": creds.AccessKeySecret,
		"SecurityToken": creds.SecurityToken, "escaped SecurityToken": url.QueryEscape(creds.SecurityToken),
	}
	closed := closedPort(t)
	tests := []struct {
		name, endpoint string
		fault          *sim.FaultRule
		want           []string
	}{
		{"connection refused", "http://" + closed, nil, []string{"http://" + closed + "/?[redacted]", "connection refused"}},
		{"connection closed", f.url, &sim.FaultRule{Action: "DescribeVpcs", Close: true}, []string{f.url + "/?[redacted]", "EOF"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(envAccessKeyID, "")
			t.Setenv(envAccessKeySecret, "")
			if tt.fault != nil {
				if err := f.sim.AddFault(*tt.fault); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(f.sim.ClearFaults)
			}
			core, logs := observer.New(zapcore.DebugLevel)
			p, err := New(context.Background(), Options{
				Endpoint: tt.endpoint, MetadataEndpoint: f.url + "/sim/v1/instances/i-aaa",
				RetryTimeout: 1500 * time.Millisecond, Logger: zap.New(core),
			})
			if err != nil {
				t.Fatal(err)
			}
			_, err = p.Network(context.Background())
			if err == nil {
				t.Fatal("Network succeeded against a dead endpoint")
			}
			var api *APIError
			if !errors.As(err, &api) || !api.Transport {
				t.Errorf("not a transport *APIError: %#v", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			texts := []string{err.Error()}
			if logs.Len() == 0 {
				t.Error("no retry was logged")
			}
			for _, e := range logs.All() {
				for k, v := range e.ContextMap() {
					texts = append(texts, k+"="+strings.TrimSpace(fmtValue(v)))
				}
			}
			for _, text := range texts {
				for name, secret := range secrets {
					if strings.Contains(text, secret) {
						t.Errorf("the %s leaked: %s", name, text)
					}
				}
			}
		})
	}
}

func fmtValue(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}
