package sim

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// imdsDo sends one IMDS request and returns status, body and the TTL
// header of the answer.
func imdsDo(t *testing.T, client *http.Client, method, url string, header map[string]string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(data), resp.Header.Get("X-aws-ec2-metadata-token-ttl-seconds")
}

func fetchToken(t *testing.T, client *http.Client, base string, ttl string) string {
	t.Helper()
	status, tok, echoed := imdsDo(t, client, "PUT", base+"/latest/api/token", map[string]string{"X-aws-ec2-metadata-token-ttl-seconds": ttl})
	if status != 200 || tok == "" || echoed != ttl {
		t.Fatalf("token: %d %q, TTL header %q (want %s echoed)", status, tok, echoed, ttl)
	}
	return tok
}

func TestIMDSv2TokenRules(t *testing.T) {
	ts := startAWS(t)
	c := LoopbackHTTPClient()
	base := ts.MetadataEndpoint(instA)
	get := func(tok string) (int, string) {
		h := map[string]string{}
		if tok != "" {
			h["X-aws-ec2-metadata-token"] = tok
		}
		status, body, _ := imdsDo(t, c, "GET", base+"/latest/meta-data/instance-id", h)
		return status, body
	}
	if status, _ := get(""); status != 401 {
		t.Errorf("GET without a token (IMDSv1): %d, want 401", status)
	}
	for _, ttl := range []string{"", "0", "21601", "soon"} {
		h := map[string]string{}
		if ttl != "" {
			h["X-aws-ec2-metadata-token-ttl-seconds"] = ttl
		}
		if status, _, _ := imdsDo(t, c, "PUT", base+"/latest/api/token", h); status != 400 {
			t.Errorf("PUT token with TTL %q: %d, want 400", ttl, status)
		}
	}
	if status, _, _ := imdsDo(t, c, "GET", base+"/latest/api/token", nil); status != 405 {
		t.Errorf("GET on the token path: %d, want 405", status)
	}
	if status, _, _ := imdsDo(t, c, "PUT", base+"/latest/api/token",
		map[string]string{"X-aws-ec2-metadata-token-ttl-seconds": "60", "X-Forwarded-For": "10.0.0.1"}); status != 403 {
		t.Errorf("proxied token request: %d, want 403", status)
	}
	tok := fetchToken(t, c, base, "21600")
	if status, body := get(tok); status != 200 || body != instA {
		t.Errorf("GET with a token: %d %q", status, body)
	}
	if status, _ := get("AQAEnot-a-token"); status != 401 {
		t.Errorf("GET with a made-up token: %d, want 401", status)
	}
	// A token is good only for the instance it was issued to.
	if status, _, _ := imdsDo(t, c, "GET", ts.MetadataEndpoint(instB)+"/latest/meta-data/instance-id",
		map[string]string{"X-aws-ec2-metadata-token": tok}); status != 401 {
		t.Errorf("token of %s used on %s: %d, want 401", instA, instB, status)
	}
	short := fetchToken(t, c, base, "1")
	time.Sleep(1100 * time.Millisecond)
	if status, _ := get(short); status != 401 {
		t.Errorf("expired token: %d, want 401", status)
	}
	// The /sim/v1/instances/<id> prefix serves the same, for plain clients.
	tok = fetchToken(t, c, ts.MetadataURL(instB), "60")
	if status, body, _ := imdsDo(t, c, "GET", ts.MetadataURL(instB)+"/latest/meta-data/local-ipv4",
		map[string]string{"X-aws-ec2-metadata-token": tok}); status != 200 || body != "192.168.1.197" {
		t.Errorf("prefix: %d %q", status, body)
	}
}

func TestIMDSv2WithSDKClient(t *testing.T) {
	ts := startAWS(t)
	c := imdsClient(ts.MetadataEndpoint(instA))
	get := func(path string) string {
		t.Helper()
		out, err := c.GetMetadata(bg, &imds.GetMetadataInput{Path: path})
		if err != nil {
			t.Fatalf("GetMetadata %s: %v", path, err)
		}
		defer out.Content.Close()
		data, err := io.ReadAll(out.Content)
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	want := map[string]string{
		"instance-id":                 instA,
		"mac":                         macA,
		"local-ipv4":                  "192.168.1.196",
		"placement/region":            awsRegion,
		"placement/availability-zone": "eu-west-1a",
		"network/interfaces/macs/":    macA + "/",
		"iam/security-credentials/":   "vpcroute-node",
		"network/interfaces/macs/" + macA + "/vpc-id":               awsVPC,
		"network/interfaces/macs/" + macA + "/interface-id":         eniA,
		"network/interfaces/macs/" + macA + "/subnet-id":            awsSubnet,
		"network/interfaces/macs/" + macA + "/local-ipv4s":          "192.168.1.196",
		"network/interfaces/macs/" + macA + "/vpc-ipv4-cidr-blocks": "192.168.0.0/16\n172.20.0.0/16",
		"network/interfaces/macs/" + macA + "/device-number":        "0",
	}
	for path, value := range want {
		if got := get(path); got != value {
			t.Errorf("%s = %q, want %q", path, got, value)
		}
	}
	region, err := c.GetRegion(bg, &imds.GetRegionInput{})
	if err != nil || region.Region != awsRegion {
		t.Errorf("GetRegion = %+v, %v", region, err)
	}
	doc, err := c.GetInstanceIdentityDocument(bg, &imds.GetInstanceIdentityDocumentInput{})
	if err != nil || doc.InstanceID != instA || doc.AccountID != DefaultAccountID || doc.Region != awsRegion || doc.PrivateIP != "192.168.1.196" {
		t.Errorf("identity document = %+v, %v", doc, err)
	}
	info, err := c.GetIAMInfo(bg, &imds.GetIAMInfoInput{})
	if err != nil || !strings.HasSuffix(info.InstanceProfileArn, ":instance-profile/vpcroute-node") {
		t.Errorf("IAM info = %+v, %v", info, err)
	}

	// A multi-ENI instance lists both MACs, primary first.
	if err := ts.AddInstance(InstanceSpec{ID: instC, PrivateIP: "192.168.1.198", MAC: "0a:cc:cc:cc:cc:c0",
		NetworkInterfaces: []ENISpec{{ID: "eni-0cccccccccccccccd", PrivateIP: "192.168.1.199", MAC: "0a:cc:cc:cc:cc:c1"}}}); err != nil {
		t.Fatal(err)
	}
	c = imdsClient(ts.MetadataEndpoint(instC))
	if got := get("network/interfaces/macs/"); got != "0a:cc:cc:cc:cc:c0/\n0a:cc:cc:cc:cc:c1/" {
		t.Errorf("macs of a multi-ENI instance = %q", got)
	}
	if got := get("network/interfaces/macs/0a:cc:cc:cc:cc:c1/device-number"); got != "1" {
		t.Errorf("second ENI device-number = %q", got)
	}
	// A terminated instance has no metadata.
	if err := ts.RemoveInstance(instC, false); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetMetadata(bg, &imds.GetMetadataInput{Path: "instance-id"}); err == nil {
		t.Error("metadata of a terminated instance answered")
	}
}

// The SDK's imds client sets the request path itself and drops the path
// of its Endpoint, so the /sim/v1/instances/<id> prefix cannot select the
// instance for it: its calls land on /latest/... of the main listener,
// which (from 127.0.0.1, no instance's address) knows no caller.
// MetadataEndpoint exists for this reason.
func TestIMDSSDKClientDropsEndpointPath(t *testing.T) {
	ts := startAWS(t)
	_, err := imdsClient(ts.MetadataURL(instA)).GetMetadata(bg, &imds.GetMetadataInput{Path: "instance-id"})
	var re *smithyhttp.ResponseError
	if err == nil || !errors.As(err, &re) || re.HTTPStatusCode() != 404 {
		t.Fatalf("want 404 from the main listener, got %v; if the SDK now keeps the endpoint's path, MetadataEndpoint is no longer needed", err)
	}
}

func TestIMDSv2ByCaller(t *testing.T) {
	topo := Topology{
		Provider:    ProviderAWS,
		Region:      awsRegion,
		VPC:         &VPCSpec{ID: "vpc-0100", CIDR: "127.0.0.0/8"},
		Subnets:     []VSwitchSpec{{ID: "subnet-0100", CIDR: "127.0.0.0/24"}},
		Instances:   []InstanceSpec{{ID: "i-05", PrivateIP: "127.0.0.5"}, {ID: "i-06", PrivateIP: "127.0.0.6", IAMRole: "node"}},
		Credentials: []CredentialSpec{{AccessKeyID: awsKey, AccessKeySecret: awsSecret}},
	}
	ts := NewTestServer(t, topo)
	for src, want := range map[string]string{"127.0.0.5": "i-05", "127.0.0.6": "i-06"} {
		c := clientFrom(src)
		tok := fetchToken(t, c, ts.URL, "60")
		status, body, _ := imdsDo(t, c, "GET", ts.URL+"/latest/meta-data/instance-id", map[string]string{"X-aws-ec2-metadata-token": tok})
		if status != 200 || body != want {
			t.Errorf("from %s: %d %q, want %s", src, status, body, want)
		}
	}
	if status, _, _ := imdsDo(t, clientFrom("127.0.0.9"), "PUT", ts.URL+"/latest/api/token",
		map[string]string{"X-aws-ec2-metadata-token-ttl-seconds": "60"}); status != 404 {
		t.Errorf("unknown caller: %d, want 404", status)
	}
}
