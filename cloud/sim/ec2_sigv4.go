package sim

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// EC2 calls are authenticated with AWS Signature Version 4. The simulator
// parses the Authorization header, checks the key, the credential scope
// (the world's region, service ec2), the date and the security token, then
// signs the same request again with aws-sdk-go-v2's own signer, restricted
// to the headers the caller signed, and compares the signatures. Using the
// SDK's signer keeps canonicalization identical to what clients do.

const (
	sigV4Algorithm = "AWS4-HMAC-SHA256"
	sigV4TimeFmt   = "20060102T150405Z"
	maxClockSkew   = 15 * time.Minute
)

// sigV4Auth is a parsed Authorization header.
type sigV4Auth struct {
	accessKey, date, region, service string
	signedHeaders                    []string
	signature                        string
}

func parseSigV4(header string) (sigV4Auth, bool) {
	rest, ok := strings.CutPrefix(header, sigV4Algorithm+" ")
	if !ok {
		return sigV4Auth{}, false
	}
	var a sigV4Auth
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return sigV4Auth{}, false
		}
		switch k {
		case "Credential":
			f := strings.Split(v, "/")
			if len(f) != 5 || f[4] != "aws4_request" {
				return sigV4Auth{}, false
			}
			a.accessKey, a.date, a.region, a.service = f[0], f[1], f[2], f[3]
		case "SignedHeaders":
			a.signedHeaders = strings.Split(v, ";")
		case "Signature":
			a.signature = v
		}
	}
	if a.accessKey == "" || len(a.signedHeaders) == 0 || a.signature == "" {
		return sigV4Auth{}, false
	}
	return a, true
}

// authenticateEC2 checks the SigV4 signature of an EC2 call whose body was
// already read.
func (s *Server) authenticateEC2(r *http.Request, body []byte) *apiError {
	authz := r.Header.Get("Authorization")
	if authz == "" {
		return ec2Err(CodeAuthFailure, "The request is not signed: expected an Authorization header with an %s (SigV4) signature.", sigV4Algorithm)
	}
	a, ok := parseSigV4(authz)
	if !ok {
		return ec2Err(CodeAuthFailure, "The Authorization header is malformed: expected %s Credential=KEY/DATE/REGION/ec2/aws4_request, SignedHeaders=..., Signature=...", sigV4Algorithm)
	}
	s.mu.Lock()
	c := s.creds.byID[a.accessKey]
	verify, region := s.beh.verifySignature, s.w.region
	s.mu.Unlock()
	if c == nil {
		return ec2Err(CodeAuthFailure, "AWS was not able to validate the provided access credentials")
	}
	if a.region != region || a.service != "ec2" {
		return ec2Err(CodeAuthFailure, "Credential should be scoped to a valid region and service: this simulator serves ec2 in %s, not %s in %s.", region, a.service, a.region)
	}
	when, err := time.Parse(sigV4TimeFmt, r.Header.Get("X-Amz-Date"))
	if err != nil || !strings.HasPrefix(r.Header.Get("X-Amz-Date"), a.date) {
		return ec2Err(CodeAuthFailure, "The X-Amz-Date header %q is missing or does not match the credential scope date %s.", r.Header.Get("X-Amz-Date"), a.date)
	}
	if skew := time.Since(when); skew > maxClockSkew || skew < -maxClockSkew {
		return ec2Err(CodeRequestExpired, "Request has expired: X-Amz-Date %s is more than %s away from the simulator's clock.", when.Format(time.RFC3339), maxClockSkew)
	}
	if tok := r.Header.Get("X-Amz-Security-Token"); c.token == "" && tok != "" {
		return ec2Err(CodeAuthFailure, "The security token included in the request is invalid: access key %s is not a temporary credential.", a.accessKey)
	}
	if c.token != "" {
		if r.Header.Get("X-Amz-Security-Token") != c.token {
			return ec2Err(CodeAuthFailure, "The security token included in the request is invalid for access key %s.", a.accessKey)
		}
		if !c.expires.IsZero() && time.Now().After(c.expires) {
			return ec2Err(CodeAuthFailure, "The security token included in the request is expired (access key %s expired at %s).",
				a.accessKey, c.expires.Format(time.RFC3339))
		}
	}
	if !verify {
		return nil
	}
	want, err := resignSigV4(r, body, a, c, when)
	if err != nil || !hmac.Equal([]byte(want), []byte(a.signature)) {
		return ec2Err(CodeAuthFailure, "AWS was not able to validate the provided access credentials (the SigV4 signature does not match)")
	}
	return nil
}

// resignSigV4 signs a copy of r holding only the headers the caller signed
// and returns the signature.
func resignSigV4(r *http.Request, body []byte, a sigV4Auth, c *credential, when time.Time) (string, error) {
	cp := &http.Request{Method: r.Method, Host: r.Host, Header: http.Header{},
		URL: &url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery}}
	for _, h := range a.signedHeaders {
		switch h {
		case "host":
		case "content-length":
			cp.ContentLength = r.ContentLength
		default:
			cp.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: c.id, SecretAccessKey: c.secret, SessionToken: c.token}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, cp, hex.EncodeToString(sum[:]), a.service, a.region, when); err != nil {
		return "", err
	}
	got, ok := parseSigV4(cp.Header.Get("Authorization"))
	if !ok || strings.Join(got.signedHeaders, ";") != strings.Join(a.signedHeaders, ";") {
		return "", errSignedHeaders
	}
	return got.signature, nil
}

var errSignedHeaders = errors.New("the re-signed request signs other headers")
