package aws

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/vpcroute/vpcroute/cloud"
)

// fakeIMDS is a minimal IMDSv2 on loopback, mounted below a path as the
// simulator mounts one per instance. It records the paths it was asked.
type fakeIMDS struct {
	mu        sync.Mutex
	asked     []string
	noToken   bool
	values    map[string]string
	tokenSeen bool
}

func (f *fakeIMDS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, r.Method+" "+r.URL.Path)
	p, ok := strings.CutPrefix(r.URL.Path, "/sim/v1/instances/i-aaa/latest/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	if p == "api/token" && r.Method == http.MethodPut {
		ttl := r.Header.Get("X-Aws-Ec2-Metadata-Token-Ttl-Seconds")
		if f.noToken || ttl == "" {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		w.Header().Set("X-Aws-Ec2-Metadata-Token-Ttl-Seconds", ttl)
		_, _ = w.Write([]byte("tok-1"))
		return
	}
	if r.Header.Get("X-Aws-Ec2-Metadata-Token") != "tok-1" {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	f.tokenSeen = true
	v, ok := f.values[strings.TrimPrefix(p, "meta-data/")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	_, _ = w.Write([]byte(v))
}

func newFakeIMDS(t *testing.T) (*fakeIMDS, string) {
	t.Helper()
	t.Setenv("AWS_EC2_METADATA_DISABLED", "false")
	f := &fakeIMDS{values: map[string]string{
		"instance-id":      "i-aaa",
		"placement/region": "eu-west-1",
		"local-ipv4":       "192.168.1.196",
		"mac":              "0a:aa:aa:aa:aa:aa",
		"network/interfaces/macs/0a:aa:aa:aa:aa:aa/vpc-id":       "vpc-lab",
		"network/interfaces/macs/0a:aa:aa:aa:aa:aa/interface-id": "eni-primary",
		// A second interface: never the target.
		"network/interfaces/macs/0a:aa:aa:aa:aa:ab/interface-id": "eni-second",
	}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv.URL + "/sim/v1/instances/i-aaa"
}

func TestIdentityFromIMDSv2BelowAPath(t *testing.T) {
	f, endpoint := newFakeIMDS(t)
	self, err := resolveIdentity(context.Background(), newMetadataClient(endpoint, nil), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := cloud.Instance{ID: "i-aaa", Region: "eu-west-1", VPCID: "vpc-lab", PrivateIP: netip.MustParseAddr("192.168.1.196"),
		Target: cloud.Target{Kind: cloud.TargetNetworkInterface, ID: "eni-primary"}}
	if self != want {
		t.Errorf("Self = %+v\nwant   %+v", self, want)
	}
	if !f.tokenSeen || f.asked[0] != "PUT /sim/v1/instances/i-aaa/latest/api/token" {
		t.Errorf("asked %v: expected a token first, below the endpoint's path", f.asked)
	}
}

func TestIdentityOverridesAndErrors(t *testing.T) {
	f, endpoint := newFakeIMDS(t)
	md := newMetadataClient(endpoint, nil)
	// Everything given: metadata is not asked at all.
	all := Options{Settings: cloud.Settings{InstanceID: "i-x", Region: "us-east-1", VPCID: "vpc-x", PrivateIP: netip.MustParseAddr("10.9.9.9")}, NetworkInterfaceID: "eni-x"}
	self, err := resolveIdentity(context.Background(), md, all)
	if err != nil || self.Target.ID != "eni-x" || len(f.asked) != 0 {
		t.Errorf("Self = %+v, %v; asked %v", self, err, f.asked)
	}
	// A value metadata lacks names the flag that would give it.
	delete(f.values, "network/interfaces/macs/0a:aa:aa:aa:aa:aa/interface-id")
	_, err = resolveIdentity(context.Background(), md, Options{})
	if err == nil || !strings.Contains(err.Error(), "interface-id") || !strings.Contains(err.Error(), "(or give --network-interface-id)") {
		t.Errorf("err = %v", err)
	}
	// A malformed value is refused like a malformed flag.
	f.values["network/interfaces/macs/0a:aa:aa:aa:aa:aa/interface-id"] = "garbage"
	_, err = resolveIdentity(context.Background(), md, Options{})
	if err == nil || !strings.Contains(err.Error(), `identity from metadata: network-interface-id "garbage" is invalid`) {
		t.Errorf("err = %v", err)
	}
}

func TestNoIMDSv1Fallback(t *testing.T) {
	f, endpoint := newFakeIMDS(t)
	f.noToken = true
	_, err := resolveIdentity(context.Background(), newMetadataClient(endpoint, nil), Options{})
	if err == nil || strings.Contains(err.Error(), "\n") {
		t.Fatalf("err = %q, want one line", err)
	}
	for _, a := range f.asked {
		if strings.HasPrefix(a, "GET") {
			t.Errorf("read %s without a token (IMDSv1)", a)
		}
	}
}

func TestMetadataDisabledByEnvironment(t *testing.T) {
	f, endpoint := newFakeIMDS(t)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	_, err := resolveIdentity(context.Background(), newMetadataClient(endpoint, nil), Options{})
	if err == nil || !strings.Contains(err.Error(), "(or give --instance-id)") {
		t.Errorf("err = %v", err)
	}
	if len(f.asked) != 0 {
		t.Errorf("asked %v with AWS_EC2_METADATA_DISABLED=true", f.asked)
	}
}
