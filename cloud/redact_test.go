package cloud

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
)

// Real-looking credentials of the kinds that reach error texts. None is
// valid anywhere.
const (
	stsID     = "STS.NUgYrLnoC37mZZCNnAbez2Rd1"
	stsToken  = "CAIS+gF1q6Ft5B2yfSjIr5bSEsP2gr5z1vO8Y1TIt0cyVtpbhrHFrDz2IHFPeHJrBeAYt/EwnGtU7f4elqB6T55OSAmcNZEoVGMt7ohmYVBo7hP6aI7NA5U="
	signature = "Zn/a3Qf0aPq9gmx+q+kS6e0y5YQ="
	awsID     = "ASIAQNZGKTHEXAMPLE7Q"
	awsToken  = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD6EXAMPLE+token/value=="
	awsSig    = "fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024"
)

var (
	escToken = strings.NewReplacer("+", "%2B", "/", "%2F", "=", "%3D").Replace(stsToken)
	escSig   = strings.NewReplacer("+", "%2B", "/", "%2F", "=", "%3D").Replace(signature)
	// aliyunQuery is the query string of a signed Alibaba RPC call, as the
	// SDK builds it (parameters sorted, values URL-escaped).
	aliyunQuery = "AccessKeyId=" + stsID + "&Action=DescribeVSwitches&Format=JSON&PageNumber=1&PageSize=50" +
		"&RegionId=cn-zhangjiakou&SecurityToken=" + escToken + "&Signature=" + escSig +
		"&SignatureMethod=HMAC-SHA1&SignatureNonce=8d8e2f0c7b4a4b0e9b8a0f3c2d1e4f5a&SignatureVersion=1.0" +
		"&Timestamp=2026-12-06T10%3A00%3A00Z&Version=2016-04-28&VpcId=vpc-lab"
)

func TestRedact(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{
			"alibaba transport error: connection refused",
			`DescribeVSwitches: Post "http://127.0.0.1:41235/?` + aliyunQuery + `": dial tcp 127.0.0.1:41235: connect: connection refused`,
			`DescribeVSwitches: Post "http://127.0.0.1:41235/?[redacted]": dial tcp 127.0.0.1:41235: connect: connection refused`,
		},
		{
			"alibaba transport error: connection closed, https",
			`list routes of vtb-lab: DescribeRouteEntryList: Post "https://vpc.example.test/?` + aliyunQuery + `": EOF (gave up after 24 tries)`,
			`list routes of vtb-lab: DescribeRouteEntryList: Post "https://vpc.example.test/?[redacted]": EOF (gave up after 24 tries)`,
		},
		{
			"alibaba SignatureDoesNotMatch echoes the string to sign, escaped twice",
			"SDK.ServerError\nErrorCode: SignatureDoesNotMatch\nRecommend: https://api.example.test/troubleshoot?q=SignatureDoesNotMatch&product=Vpc\n" +
				"RequestId: 6B2F3B1E-1F2A-4C4D-9E8F-0A1B2C3D4E5F\nMessage: Specified signature is not matched with our calculation. server string to sign is:POST&%2F&" +
				"AccessKeyId%3D" + stsID + "%26Action%3DDescribeVpcs%26SecurityToken%3D" + strings.ReplaceAll(escToken, "%", "%25") +
				"%26SignatureMethod%3DHMAC-SHA1%26Version%3D2016-04-28",
			"SDK.ServerError\nErrorCode: SignatureDoesNotMatch\nRecommend: https://api.example.test/troubleshoot?[redacted]\n" +
				"RequestId: 6B2F3B1E-1F2A-4C4D-9E8F-0A1B2C3D4E5F\nMessage: Specified signature is not matched with our calculation. server string to sign is:POST&%2F&" +
				"AccessKeyId%3D[redacted]%26Action%3DDescribeVpcs%26SecurityToken%3D[redacted]%26SignatureMethod%3DHMAC-SHA1%26Version%3D2016-04-28",
		},
		{
			"string to sign escaped twice",
			"AccessKeyId%253D" + stsID + "%2526SecurityToken%253D" + escToken + "%2526Version%253D2016",
			"AccessKeyId%253D[redacted]%2526SecurityToken%253D[redacted]%2526Version%253D2016",
		},
		{
			"query parameters in free text, URL-escaped",
			"signed AccessKeyId=" + stsID + "&SecurityToken=" + escToken + "&Signature=" + escSig + "&Action=CreateRouteEntry",
			"signed AccessKeyId=[redacted]&SecurityToken=[redacted]&Signature=[redacted]&Action=CreateRouteEntry",
		},
		{
			"aws presigned URL",
			`Get "https://bucket.s3.example.test/key.tar?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=` + awsID +
				`%2F20261206%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261206T100000Z&X-Amz-Expires=900&X-Amz-Security-Token=` +
				`IQoJb3JpZ2luX2VjEJr%2F%2F%2F%2F&X-Amz-SignedHeaders=host&X-Amz-Signature=` + awsSig + `": net/http: TLS handshake timeout`,
			`Get "https://bucket.s3.example.test/key.tar?[redacted]": net/http: TLS handshake timeout`,
		},
		{
			"aws presign parameters in free text",
			"X-Amz-Credential=" + awsID + "/20261206/us-east-1/ec2/aws4_request X-Amz-Security-Token=" + awsToken + " x-amz-signature=" + awsSig,
			"X-Amz-Credential=[redacted] X-Amz-Security-Token=[redacted] x-amz-signature=[redacted]",
		},
		{
			"aws authorization header",
			"Authorization: AWS4-HMAC-SHA256 Credential=" + awsID + "/20261206/us-east-1/ec2/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=" + awsSig,
			"Authorization: AWS4-HMAC-SHA256 Credential=[redacted], SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=[redacted]",
		},
		{
			"aws security token header",
			"X-Amz-Security-Token: " + awsToken + "\nX-Amz-Date: 20261206T100000Z\npassword: hunter2",
			"X-Amz-Security-Token: [redacted]\nX-Amz-Date: 20261206T100000Z\npassword: [redacted]",
		},
		{
			"bearer and alibaba ROA authorization",
			"authorization:Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig; Authorization: acs " + stsID + ":" + signature,
			"authorization:Bearer [redacted]; Authorization: acs [redacted]",
		},
		{
			"etcd endpoint with userinfo",
			"dial etcd http://root:hunter2@10.0.0.5:2379: context deadline exceeded (endpoints https://u%40x:p%3Aw@etcd-1:2379/)",
			"dial etcd http://[redacted]@10.0.0.5:2379: context deadline exceeded (endpoints https://[redacted]@etcd-1:2379/)",
		},
		{
			"RAM role credentials document",
			`{"AccessKeyId":"` + stsID + `","AccessKeySecret":"9HaBE3Tr1V0YZpNA7EXAMPLE","Expiration":"2026-12-06T16:00:00Z","SecurityToken":"` + stsToken + `","Code":"Success"}`,
			`{"AccessKeyId":"[redacted]","AccessKeySecret":"[redacted]","Expiration":"2026-12-06T16:00:00Z","SecurityToken":"[redacted]","Code":"Success"}`,
		},
		{
			"credentials document inside a JSON log line",
			`{"level":"warn","msg":"bad body","body":"{\"AccessKeySecret\": \"9HaBE3Tr1V0YZpNA\", \"SecurityToken\":\"` + stsToken + `\"}"}`,
			`{"level":"warn","msg":"bad body","body":"{\"AccessKeySecret\": \"[redacted]\", \"SecurityToken\":\"[redacted]\"}"}`,
		},
		{
			"a credentials struct printed with %+v",
			fmt.Sprintf("%+v", struct{ AccessKeyId, AccessKeySecret, BearerToken, SecurityToken, ProviderName string }{stsID, "9HaBE3Tr1V0", "", stsToken, "vpcroute"}),
			"{AccessKeyId:[redacted] AccessKeySecret:[redacted] BearerToken: SecurityToken:[redacted] ProviderName:vpcroute}",
		},
		{
			"environment and flags, any case",
			`ALIBABA_CLOUD_ACCESS_KEY_ID=LTAI5t ALIBABA_CLOUD_SECURITY_TOKEN=CAIS AWS_SECRET_ACCESS_KEY=wJalr --etcd-password=hunter2 PASSWORD = "hunter 2" api_key='k1'`,
			`ALIBABA_CLOUD_ACCESS_KEY_ID=[redacted] ALIBABA_CLOUD_SECURITY_TOKEN=[redacted] AWS_SECRET_ACCESS_KEY=[redacted] --etcd-password=[redacted] PASSWORD = "[redacted]" api_key='[redacted]'`,
		},
		{
			"fragment",
			"redirect to https://login.example.test/cb#access_token=abc&state=1.",
			"redirect to https://login.example.test/cb#[redacted].",
		},
		{
			"a URL without secrets keeps everything",
			"metadata http://127.0.0.1:8080/sim/v1/instances/i-aaa/latest/meta-data/ram/security-credentials/vpcroute: HTTP 404",
			"metadata http://127.0.0.1:8080/sim/v1/instances/i-aaa/latest/meta-data/ram/security-credentials/vpcroute: HTTP 404",
		},
		{
			"prose about credentials is not a pair",
			"no Alibaba Cloud credentials: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, or attach a RAM role to the instance; security token: expired; signature: mismatch",
			"no Alibaba Cloud credentials: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, or attach a RAM role to the instance; security token: expired; signature: mismatch",
		},
		{
			"error codes and non-secret parameters stay",
			"CreateRouteEntry: SignatureDoesNotMatch (HTTP 400): Specified signature is not matched [request 6B2F]; api error ExpiredToken: The security token included in the request is expired; SignatureMethod=HMAC-SHA1 dial tcp secret.example.test:443: i/o timeout",
			"CreateRouteEntry: SignatureDoesNotMatch (HTTP 400): Specified signature is not matched [request 6B2F]; api error ExpiredToken: The security token included in the request is expired; SignatureMethod=HMAC-SHA1 dial tcp secret.example.test:443: i/o timeout",
		},
		{
			"empty values",
			"SecurityToken=&Signature= token:",
			"SecurityToken=&Signature= token:",
		},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Redact(tt.in)
			if got != tt.want {
				t.Errorf("Redact(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
			if again := Redact(got); again != got {
				t.Errorf("Redact is not idempotent:\nonce  %q\ntwice %q", got, again)
			}
		})
	}
}

// TestRedactRemovesEverySecret checks the property that matters on texts
// assembled from every form a secret takes: none of the planted values
// survives, whatever surrounds it.
func TestRedactRemovesEverySecret(t *testing.T) {
	secrets := []string{stsToken, escToken, signature, escSig, awsToken, awsSig, "hunter2"}
	forms := []func(v string) string{
		func(v string) string { return `Post "http://127.0.0.1:1/?SecurityToken=` + v + `": EOF` },
		func(v string) string { return "https://ec2.example.test/?Action=CreateRoute&x=" + v },
		func(v string) string { return "http://admin:" + v + "@127.0.0.1:2379" },
		func(v string) string { return "Signature=" + v },
		func(v string) string { return "x-amz-security-token=" + v + "&" },
		func(v string) string { return `"securityToken": "` + v + `"` },
		func(v string) string { return `\"AccessKeySecret\":\"` + v + `\"` },
		func(v string) string { return "SecurityToken%3D" + v + "%26Version%3D1" },
		func(v string) string { return "{Password:" + v + " Other:1}" },
		func(v string) string { return "Authorization: Bearer " + v },
		func(v string) string { return "X-Amz-Security-Token: " + v + "\n" },
	}
	for _, v := range secrets {
		for i, form := range forms {
			for _, around := range []string{"%s", "error: %s", "(%s)", "%s.", "[%s]", `{"error":"%s"}`} {
				in := fmt.Sprintf(around, form(v))
				if got := Redact(in); strings.Contains(got, v) {
					t.Errorf("form %d: Redact(%q) = %q still holds the secret", i, in, got)
				}
			}
		}
	}
}

// FuzzRedact checks that Redact is idempotent and that a token planted as
// a security token parameter never survives, whatever text surrounds it.
func FuzzRedact(f *testing.F) {
	f.Add("prefix ", " suffix")
	f.Add(`Post "http://h/?a=1&`, `": EOF`)
	f.Add(`{"x":"`, `"}`)
	f.Add("%26", "%26")
	const planted = "CAISplantedTOKENvalue0123456789"
	f.Fuzz(func(t *testing.T, before, after string) {
		in := before + "SecurityToken=" + planted + after
		got := Redact(in)
		if Redact(got) != got {
			t.Fatalf("not idempotent on %q: %q then %q", in, got, Redact(got))
		}
		// The token is gone unless the fuzzer wrote it out elsewhere or
		// glued the key to a longer word.
		if strings.Contains(got, planted) && !strings.Contains(before+after, planted) && !strings.ContainsAny(lastByte(before), "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-\"\\") {
			t.Fatalf("Redact(%q) = %q still holds the token", in, got)
		}
	})
}

func lastByte(s string) string {
	if s == "" {
		return ""
	}
	return s[len(s)-1:]
}

type codedError struct{ code string }

func (e *codedError) Error() string { return "code " + e.code + " at http://h/?token=abc" }

func TestRedactError(t *testing.T) {
	if RedactError(nil) != nil {
		t.Fatal("RedactError(nil) is not nil")
	}
	clean := errors.New("dial tcp 127.0.0.1:1: connect: connection refused")
	if got := RedactError(clean); got != clean {
		t.Errorf("an error without secrets was wrapped: %#v", got)
	}

	inner := &codedError{code: "Throttling"}
	err := fmt.Errorf("list routes of vtb-1: SecurityToken=%s: %w: %w", stsToken, inner, fs.ErrNotExist)
	red := RedactError(err)
	if strings.Contains(red.Error(), stsToken) || strings.Contains(red.Error(), "abc") {
		t.Errorf("RedactError kept a secret: %s", red)
	}
	if want := "list routes of vtb-1: SecurityToken=[redacted]: code Throttling at http://h/?[redacted]: file does not exist"; red.Error() != want {
		t.Errorf("RedactError = %q, want %q", red, want)
	}
	if !errors.Is(red, fs.ErrNotExist) {
		t.Error("errors.Is does not see through the redaction")
	}
	var ce *codedError
	if !errors.As(red, &ce) || ce.code != "Throttling" {
		t.Error("errors.As does not see through the redaction")
	}
	if wrapped := fmt.Errorf("sync: %w", red); strings.Contains(wrapped.Error(), stsToken) {
		t.Errorf("wrapping a redacted error brings the secret back: %s", wrapped)
	}
}

func BenchmarkRedact(b *testing.B) {
	lines := map[string]string{
		"clean": "2026-12-06T10:00:00.000Z\tINFO\treconciler\tpass done\t" +
			`{"trigger": "resync", "result": "ok", "created": 0, "deleted": 0, "took": "41ms"}`,
		"leak": `2026-12-06T10:00:00.000Z	WARN	retrying cloud call	{"action": "DescribeVSwitches", "attempt": 3, ` +
			`"code": "Transport", "error": "DescribeVSwitches: Post \"http://127.0.0.1:41235/?` + aliyunQuery +
			`\": dial tcp 127.0.0.1:41235: connect: connection refused"}`,
	}
	for name, line := range lines {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(line)))
			for b.Loop() {
				_ = Redact(line)
			}
		})
	}
}

// TestRedactLinear guards against a quadratic scan: a megabyte of
// unclosed quoted pairs must not take seconds. It counts nothing in time;
// a quadratic Redact makes the test binary time out.
func TestRedactLinear(t *testing.T) {
	in := strings.Repeat(`"token":"x `, 100_000)
	got := Redact(in)
	if strings.Contains(got, `"token":"x`) {
		t.Errorf("a value was kept: %.80s", got)
	}
}
