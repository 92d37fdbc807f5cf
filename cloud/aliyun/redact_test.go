package aliyun

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/cloud/sim"
)

// TestTransportErrorsCarryNoCredentials: when no answer comes back, the
// SDK's error is the signed request URL, whose query holds the role's
// access key, security token and signature. Neither the returned error
// nor the retry log may hold them; the error still names the endpoint and
// the failure, and is still an *APIError marked Transport.
func TestTransportErrorsCarryNoCredentials(t *testing.T) {
	f := newFixture(t, nil)
	// The role's credentials, read as the provider reads them: the
	// simulator hands out the same ones until half their lifetime passed.
	role := &ramRoleProvider{md: newMetadataClient(f.url + "/sim/v1/instances/i-aaa")}
	creds, err := role.fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{
		"AccessKeyId": creds.AccessKeyId, "AccessKeySecret": creds.AccessKeySecret,
		"SecurityToken": creds.SecurityToken, "escaped SecurityToken": url.QueryEscape(creds.SecurityToken),
	}
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	closed := strings.TrimPrefix(dead.URL, "http://")
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
				Settings: cloud.Settings{
					Endpoint:         tt.endpoint,
					MetadataEndpoint: f.url + "/sim/v1/instances/i-aaa",
					RetryTimeout:     1500 * time.Millisecond,
					Logger:           zap.New(core),
					Cluster:          testCluster,
				},
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
