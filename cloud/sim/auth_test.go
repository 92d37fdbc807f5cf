package sim

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/vpc"
)

func describeVpcsWith(t *testing.T, ts *TestServer, client *vpc.Client) error {
	t.Helper()
	_, err := client.DescribeVpcs(at(ts, vpc.CreateDescribeVpcsRequest()))
	return err
}

func TestUnknownAccessKey(t *testing.T) {
	ts := start(t)
	err := describeVpcsWith(t, ts, vpcClientWith(t, credentials.NewAccessKeyCredential("LTAI-nobody", "x")))
	wantServerError(t, err, 404, CodeInvalidAccessKeyID)

	status, body := httpGet(t, ts.HTTP.Client(), ts.URL+"/?Action=DescribeVpcs&RegionId="+testRegion)
	if status != 404 || !strings.Contains(body, CodeInvalidAccessKeyID) {
		t.Errorf("no AccessKeyId: %d %s", status, body)
	}
	if ts.Stats().Count("DescribeVpcs", CodeInvalidAccessKeyID) != 2 {
		t.Errorf("stats = %+v", ts.Stats().Actions)
	}
}

func TestWrongSecretFailsSignature(t *testing.T) {
	ts := start(t)
	err := describeVpcsWith(t, ts, vpcClientWith(t, credentials.NewAccessKeyCredential(testKey, "not-the-secret")))
	se := wantServerError(t, err, 400, CodeSignatureDoesNotMatch)
	// The SDK compares our string-to-sign with its own and says the secret
	// is wrong only when they are identical: the canonicalization matches.
	if !strings.Contains(se.Recommend(), "InvalidAccessKeySecret") {
		t.Errorf("Recommend = %q: the simulator's string to sign differs from the SDK's", se.Recommend())
	}
	if strings.Contains(se.Error(), "not-the-secret") || strings.Contains(se.Error(), testSecret) {
		t.Error("an error message carries a secret")
	}
}

func TestSignatureIgnored(t *testing.T) {
	ts := start(t, WithBehaviour(func(b *Behaviour) { b.Signature = "ignore" }))
	if err := describeVpcsWith(t, ts, vpcClientWith(t, credentials.NewAccessKeyCredential(testKey, "wrong"))); err != nil {
		t.Errorf("signature ignored, wrong secret: %v", err)
	}
}

func TestWrongRegion(t *testing.T) {
	ts := start(t)
	c, err := vpc.NewClientWithOptions("cn-hangzhou", sdkConfig(), credentials.NewAccessKeyCredential(testKey, testSecret))
	if err != nil {
		t.Fatal(err)
	}
	se := wantServerError(t, describeVpcsWith(t, ts, c), 404, CodeInvalidRegion)
	if !strings.Contains(se.Message(), "cn-hangzhou") || !strings.Contains(se.Message(), testRegion) {
		t.Errorf("message = %q", se.Message())
	}
}

func TestStaticSTSCredential(t *testing.T) {
	topo := DefaultTopology()
	topo.Credentials = append(topo.Credentials, CredentialSpec{AccessKeyID: "STS.static", AccessKeySecret: "sts-secret", SecurityToken: "tok-1"})
	ts := NewTestServer(t, topo)
	if err := describeVpcsWith(t, ts, vpcClientWith(t, credentials.NewStsTokenCredential("STS.static", "sts-secret", "tok-1"))); err != nil {
		t.Fatalf("valid STS credential: %v", err)
	}
	err := describeVpcsWith(t, ts, vpcClientWith(t, credentials.NewStsTokenCredential("STS.static", "sts-secret", "tok-2")))
	wantServerError(t, err, 400, CodeSecurityTokenMismatch)
	err = describeVpcsWith(t, ts, vpcClientWith(t, credentials.NewAccessKeyCredential("STS.static", "sts-secret")))
	wantServerError(t, err, 400, CodeSecurityTokenMismatch)
	err = describeVpcsWith(t, ts, vpcClientWith(t, credentials.NewStsTokenCredential("STS.static", "wrong", "tok-1")))
	se := wantServerError(t, err, 400, CodeSignatureDoesNotMatch)
	if strings.Contains(se.Error(), "tok-1") {
		t.Errorf("the error answer carries the security token: %s", se.Message())
	}
}

// fetchRoleCredential walks the RAM role paths as the SDK's provider does.
func fetchRoleCredential(t *testing.T, ts *TestServer, instanceID string) ramCredentialDoc {
	t.Helper()
	base := ts.MetadataURL(instanceID) + "/latest/meta-data/ram/security-credentials/"
	status, role := httpGet(t, ts.HTTP.Client(), base)
	if status != 200 || role != "vpcroute-node" {
		t.Fatalf("role name: %d %q", status, role)
	}
	status, body := httpGet(t, ts.HTTP.Client(), base+role)
	if status != 200 {
		t.Fatalf("role credential: %d %s", status, body)
	}
	// Decode into pointers as the SDK's provider does, so a missing field
	// shows up.
	var doc struct {
		AccessKeyID     *string `json:"AccessKeyId"`
		AccessKeySecret *string `json:"AccessKeySecret"`
		SecurityToken   *string `json:"SecurityToken"`
		Expiration      *string `json:"Expiration"`
		Code            *string `json:"Code"`
		LastUpdated     *string `json:"LastUpdated"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]*string{"AccessKeyId": doc.AccessKeyID, "AccessKeySecret": doc.AccessKeySecret,
		"SecurityToken": doc.SecurityToken, "Expiration": doc.Expiration, "Code": doc.Code, "LastUpdated": doc.LastUpdated} {
		if p == nil || *p == "" {
			t.Fatalf("credential document lacks %s: %s", name, body)
		}
	}
	if *doc.Code != "Success" {
		t.Errorf("Code = %q", *doc.Code)
	}
	if _, err := time.Parse("2006-01-02T15:04:05Z", *doc.Expiration); err != nil {
		t.Errorf("Expiration %q is not in the SDK's format: %v", *doc.Expiration, err)
	}
	return ramCredentialDoc{AccessKeyID: *doc.AccessKeyID, AccessKeySecret: *doc.AccessKeySecret, SecurityToken: *doc.SecurityToken}
}

func TestRAMRoleCredentials(t *testing.T) {
	ts := start(t)
	doc := fetchRoleCredential(t, ts, "i-aaa")
	cred := credentials.NewStsTokenCredential(doc.AccessKeyID, doc.AccessKeySecret, doc.SecurityToken)
	if err := describeVpcsWith(t, ts, vpcClientWith(t, cred)); err != nil {
		t.Fatalf("RPC with RAM role credential: %v", err)
	}
	if again := fetchRoleCredential(t, ts, "i-aaa"); again.AccessKeyID != doc.AccessKeyID {
		t.Errorf("credential rotated on the second read, long before expiry")
	}
	if other := fetchRoleCredential(t, ts, "i-bbb"); other.AccessKeyID == doc.AccessKeyID {
		t.Errorf("two instances share a credential")
	}
	status, _ := httpGet(t, ts.HTTP.Client(), ts.MetadataURL("i-aaa")+"/latest/meta-data/ram/security-credentials/other-role")
	if status != 404 {
		t.Errorf("unknown role: status %d, want 404", status)
	}
}

func TestRAMRoleCredentialExpires(t *testing.T) {
	ts := start(t, WithBehaviour(func(b *Behaviour) { b.STSLifetime = time.Nanosecond }))
	doc := fetchRoleCredential(t, ts, "i-aaa")
	err := describeVpcsWith(t, ts, vpcClientWith(t, credentials.NewStsTokenCredential(doc.AccessKeyID, doc.AccessKeySecret, doc.SecurityToken)))
	wantServerError(t, err, 400, CodeSecurityTokenExpired)
}

func TestNoRAMRole(t *testing.T) {
	topo := DefaultTopology()
	topo.Instances[1].RAMRole = ""
	ts := NewTestServer(t, topo)
	status, _ := httpGet(t, ts.HTTP.Client(), ts.MetadataURL("i-bbb")+"/latest/meta-data/ram/security-credentials/")
	if status != 404 {
		t.Errorf("instance without role: status %d, want 404", status)
	}
}
