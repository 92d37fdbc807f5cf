package sim

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
)

func TestEC2ThrottleMutatingBucket(t *testing.T) {
	ts := startAWS(t)
	c := ec2Client(ts)
	ok, firstDenied := 0, -1
	var denied error
	for i := range 60 {
		_, err := c.ModifyNetworkInterfaceAttribute(bg, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String(eniA),
			SourceDestCheck: &types.AttributeBooleanValue{Value: aws.Bool(false)}})
		switch {
		case err == nil:
			ok++
		case firstDenied < 0:
			firstDenied, denied = i, err
			wantAPIError(t, err, 503, CodeRequestLimitExceeded)
		}
	}
	// 50 tokens, plus whatever refilled at 5/s during the burst.
	if ok < 50 || ok > 53 || firstDenied < 50 {
		t.Fatalf("%d of 60 mutating calls passed, first denied #%d; want about 50", ok, firstDenied)
	}
	// The SDK's standard retryer sees a throttle it retries.
	if !retry.NewStandard().IsErrorRetryable(denied) {
		t.Error("the SDK does not retry RequestLimitExceeded")
	}
	if retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(denied) != aws.TrueTernary {
		t.Error("the SDK does not classify RequestLimitExceeded as a throttle")
	}
	// Reads have their own bucket.
	if _, err := c.DescribeRouteTables(bg, &ec2.DescribeRouteTablesInput{}); err != nil {
		t.Errorf("a read after the write bucket emptied: %v", err)
	}
	if st := ts.Stats(); st.Count("ModifyNetworkInterfaceAttribute", CodeRequestLimitExceeded) != 60-ok {
		t.Errorf("stats = %+v", st.Actions)
	}
}

func TestEC2ThrottleDescribeBucket(t *testing.T) {
	ts := startAWS(t)
	c := ec2Client(ts)
	ok := 0
	for range 120 {
		if _, err := c.DescribeVpcs(bg, &ec2.DescribeVpcsInput{}); err == nil {
			ok++
		} else {
			wantAPIError(t, err, 503, CodeRequestLimitExceeded)
		}
	}
	// 100 tokens, plus 20/s during the burst.
	if ok < 100 || ok > 110 {
		t.Errorf("%d of 120 describe calls passed; want about 100", ok)
	}
	// Both buckets are settable at run time.
	if code := adminDo(t, ts, "POST", "/sim/v1/behaviour", `{"throttle":{"writes":{"capacity":2,"refillPerSecond":0}}}`, nil); code != 200 {
		t.Fatalf("set throttle: %d", code)
	}
	for i := range 3 {
		_, err := c.CreateTags(bg, &ec2.CreateTagsInput{Resources: []string{awsTable}, Tags: []types.Tag{{Key: aws.String("n"), Value: aws.String("v")}}})
		if i < 2 && err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		if i == 2 {
			wantAPIError(t, err, 503, CodeRequestLimitExceeded)
		}
	}
	if _, err := c.DescribeVpcs(bg, &ec2.DescribeVpcsInput{}); err != nil {
		t.Errorf("reads unlimited after the patch: %v", err)
	}
}

func TestEC2AuthFailures(t *testing.T) {
	ts := startAWS(t)
	call := func(cfg aws.Config) error {
		_, err := ec2.NewFromConfig(cfg).DescribeVpcs(bg, &ec2.DescribeVpcsInput{})
		return err
	}
	if err := call(awsConfig(ts, awsKey, awsSecret, "")); err != nil {
		t.Fatalf("right key: %v", err)
	}
	wantAPIError(t, call(awsConfig(ts, awsKey, "wrong-secret", "")), 401, CodeAuthFailure)
	wantAPIError(t, call(awsConfig(ts, "AKIAUNKNOWN000000000", awsSecret, "")), 401, CodeAuthFailure)
	wantAPIError(t, call(awsConfig(ts, awsKey, awsSecret, "a-token-nobody-issued")), 401, CodeAuthFailure)
	other := awsConfig(ts, awsKey, awsSecret, "")
	other.Region = "us-east-1"
	ae := wantAPIError(t, call(other), 401, CodeAuthFailure)
	if !strings.Contains(ae.ErrorMessage(), awsRegion) {
		t.Errorf("region message = %q", ae.ErrorMessage())
	}
	if strings.Contains(ae.ErrorMessage(), awsSecret) {
		t.Error("an error message shows the secret")
	}

	// Unsigned, and signed too long ago.
	status, code := rawEC2(t, ts, "Action=DescribeVpcs&Version=2016-11-15", nil)
	if status != 401 || code != CodeAuthFailure {
		t.Errorf("unsigned call: %d %s", status, code)
	}
	status, code = rawEC2(t, ts, "Action=DescribeVpcs&Version=2016-11-15", &signing{key: awsKey, secret: awsSecret, when: time.Now().Add(-time.Hour)})
	if status != 400 || code != CodeRequestExpired {
		t.Errorf("stale signature: %d %s", status, code)
	}
	// A body changed after signing does not verify.
	status, code = rawEC2(t, ts, "Action=DescribeVpcs&Version=2016-11-15", &signing{key: awsKey, secret: awsSecret, when: time.Now(), tamper: true})
	if status != 401 || code != CodeAuthFailure {
		t.Errorf("tampered body: %d %s", status, code)
	}

	// signature: ignore skips the signature, never the key.
	if err := ts.SetBehaviour(func() Behaviour { b := ts.Behaviour(); b.Signature = "ignore"; return b }()); err != nil {
		t.Fatal(err)
	}
	if err := call(awsConfig(ts, awsKey, "wrong-secret", "")); err != nil {
		t.Errorf("wrong secret with signature: ignore: %v", err)
	}
	wantAPIError(t, call(awsConfig(ts, "AKIAUNKNOWN000000000", awsSecret, "")), 401, CodeAuthFailure)
}

func TestEC2InstanceRoleCredentials(t *testing.T) {
	ts := startAWS(t, WithBehaviour(func(b *Behaviour) { b.STSLifetime = 2 * time.Second }))
	// The SDK's own instance role provider, reading IMDSv2 of host A.
	prov := ec2rolecreds.New(func(o *ec2rolecreds.Options) { o.Client = imdsClient(ts.MetadataEndpoint(instA)) })
	creds, err := prov.Retrieve(bg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(creds.AccessKeyID, "ASIA") || creds.SessionToken == "" || !creds.CanExpire || time.Until(creds.Expires) > 3*time.Second {
		t.Errorf("role credentials = id %s token? %v expires %v", creds.AccessKeyID, creds.SessionToken != "", creds.Expires)
	}
	cfg := awsConfig(ts, "", "", "")
	cfg.Credentials = aws.NewCredentialsCache(prov)
	if _, err := ec2.NewFromConfig(cfg).DescribeVpcs(bg, &ec2.DescribeVpcsInput{}); err != nil {
		t.Fatalf("call with role credentials: %v", err)
	}
	// Without its token the key is refused; once expired, too.
	_, err = ec2.NewFromConfig(awsConfig(ts, creds.AccessKeyID, creds.SecretAccessKey, "")).DescribeVpcs(bg, &ec2.DescribeVpcsInput{})
	wantAPIError(t, err, 401, CodeAuthFailure)
	time.Sleep(time.Until(creds.Expires) + 100*time.Millisecond)
	_, err = ec2.NewFromConfig(awsConfig(ts, creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken)).DescribeVpcs(bg, &ec2.DescribeVpcsInput{})
	if ae := wantAPIError(t, err, 401, CodeAuthFailure); !strings.Contains(ae.ErrorMessage(), "expired") {
		t.Errorf("message = %q", ae.ErrorMessage())
	}
}

func TestEC2Faults(t *testing.T) {
	ts := startAWS(t)
	c := ec2Client(ts)
	if err := ts.AddFault(FaultRule{Action: "CreateRoute", Code: CodeUnauthorizedOperation, Count: 1}); err != nil {
		t.Fatal(err)
	}
	_, err := c.CreateRoute(bg, &ec2.CreateRouteInput{RouteTableId: aws.String(awsTable), DestinationCidrBlock: aws.String("10.0.0.0/24"), NetworkInterfaceId: aws.String(eniA)})
	wantAPIError(t, err, 403, CodeUnauthorizedOperation)
	createENIRoute(t, c, "10.0.0.0/24", eniA) // count spent

	if code := adminDo(t, ts, "POST", "/sim/v1/faults", `[{"action":"DescribeRouteTables","code":"InternalError","count":1},{"action":"DeleteRoute","close":true,"count":1},{"action":"ReplaceRoute","code":"RequestLimitExceeded","count":1}]`, nil); code != 200 {
		t.Fatalf("post faults: %d", code)
	}
	_, err = c.DescribeRouteTables(bg, &ec2.DescribeRouteTablesInput{})
	wantAPIError(t, err, 500, "InternalError")
	_, err = c.DeleteRoute(bg, &ec2.DeleteRouteInput{RouteTableId: aws.String(awsTable), DestinationCidrBlock: aws.String("10.0.0.0/24")})
	var ae smithy.APIError
	if err == nil || errors.As(err, &ae) {
		t.Errorf("dropped connection: want a transport error, got %v", err)
	}
	_, err = c.ReplaceRoute(bg, &ec2.ReplaceRouteInput{RouteTableId: aws.String(awsTable), DestinationCidrBlock: aws.String("10.0.0.0/24"), NetworkInterfaceId: aws.String(eniB)})
	wantAPIError(t, err, 503, CodeRequestLimitExceeded)
	if r := routeTo(routeTable(t, c, awsTable), "10.0.0.0/24"); r == nil || aws.ToString(r.NetworkInterfaceId) != eniA {
		t.Errorf("failed calls changed the route: %+v", r)
	}
	st := ts.Stats()
	if st.Count("DeleteRoute", outcomeTransportError) != 1 || st.Count("DescribeRouteTables", "InternalError") != 1 || st.Count("CreateRoute", CodeUnauthorizedOperation) != 1 {
		t.Errorf("stats = %+v", st.Actions)
	}
	if err := ts.AddFault(FaultRule{Action: "CreateRouteEntry", Code: "TaskConflict"}); err == nil {
		t.Error("an Alibaba action accepted as an EC2 fault")
	}
}

func TestEC2ProtocolErrors(t *testing.T) {
	ts := startAWS(t)
	sign := &signing{key: awsKey, secret: awsSecret, when: time.Now()}
	for body, want := range map[string]string{
		"Action=RunInstances&Version=2016-11-15":                                      CodeInvalidEC2Action,
		"Version=2016-11-15":                                                          CodeMissingAction,
		"Action=DescribeVpcs":                                                         CodeMissingParameter,
		"Action=DescribeVpcs&Version=2014-01-01":                                      CodeInvalidParameterValue,
		"Action=DescribeVpcs&Version=2016-11-15&Filter.1.Name=vpc-id":                 CodeInvalidParameterValue,
		"Action=DescribeVpcs&Version=2016-11-15&Filter.x.Name=vpc-id&Filter.x.Value=": CodeInvalidParameterValue,
	} {
		if status, code := rawEC2(t, ts, body, sign); status != 400 || code != want {
			t.Errorf("%s: %d %s, want 400 %s", body, status, code, want)
		}
	}
	_, err := ec2Client(ts).CreateRoute(bg, &ec2.CreateRouteInput{DryRun: aws.Bool(true), RouteTableId: aws.String(awsTable),
		DestinationCidrBlock: aws.String("10.0.0.0/24"), NetworkInterfaceId: aws.String(eniA)})
	wantAPIError(t, err, 412, CodeDryRunOperation)
	if r := routeTo(routeTable(t, ec2Client(ts), awsTable), "10.0.0.0/24"); r != nil {
		t.Error("a dry run created the route")
	}
}

// signing says how rawEC2 signs its request.
type signing struct {
	key, secret string
	when        time.Time
	tamper      bool // change the body after signing
}

// rawEC2 posts a form body to the EC2 API, optionally SigV4-signed, and
// returns the status and the error code of the answer.
func rawEC2(t *testing.T, ts *TestServer, form string, sig *signing) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, ts.URL+"/", strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	if sig != nil {
		sum := sha256.Sum256([]byte(form))
		creds := aws.Credentials{AccessKeyID: sig.key, SecretAccessKey: sig.secret}
		if err := v4.NewSigner().SignHTTP(bg, creds, req, hex.EncodeToString(sum[:]), "ec2", awsRegion, sig.when); err != nil {
			t.Fatal(err)
		}
		if sig.tamper {
			changed := url.Values{}
			changed.Set("Action", "DescribeSubnets")
			changed.Set("Version", EC2APIVersion)
			body := changed.Encode()
			req.Body, req.ContentLength = io.NopCloser(strings.NewReader(body)), int64(len(body))
			req.Header.Set("Content-Length", "")
		}
	}
	resp, err := LoopbackHTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body ec2ErrorBody
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		if err := xml.Unmarshal(data, &body); err != nil {
			t.Fatalf("error answer %q: %v", data, err)
		}
		if body.RequestID == "" || body.Message == "" {
			t.Errorf("error answer without request ID or message: %s", data)
		}
	}
	return resp.StatusCode, body.Code
}
