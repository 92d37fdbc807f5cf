package sim

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// credential is an accepted access key. Minted RAM role credentials carry a
// security token and an expiry.
type credential struct {
	id, secret, token string
	expires           time.Time // zero: never
	updated           time.Time
}

type credStore struct {
	byID   map[string]*credential
	minted map[string]*credential // latest per "instance/role"
}

func compileCredentials(specs []CredentialSpec) (*credStore, error) {
	cs := &credStore{byID: map[string]*credential{}, minted: map[string]*credential{}}
	for i, c := range specs {
		field := fmt.Sprintf("credentials[%d]", i)
		if c.AccessKeyID == "" || strings.ContainsAny(c.AccessKeyID, " \t\r\n&=") {
			return nil, paramError(field+".accessKeyId", c.AccessKeyID, "a non-empty access key ID without spaces, '&' or '='")
		}
		if _, dup := cs.byID[c.AccessKeyID]; dup {
			return nil, paramError(field+".accessKeyId", c.AccessKeyID, "a unique access key ID")
		}
		if c.AccessKeySecret == "" {
			// The value is a secret: never echo it, not even when wrong.
			return nil, paramError(field+".accessKeySecret", "", "a non-empty secret for access key "+c.AccessKeyID)
		}
		cs.byID[c.AccessKeyID] = &credential{id: c.AccessKeyID, secret: c.AccessKeySecret, token: c.SecurityToken}
	}
	return cs, nil
}

// authenticate checks the access key, the security token and (unless
// disabled) the HMAC-SHA1 signature of an RPC call.
func (s *Server) authenticate(method string, params url.Values) *apiError {
	id := params.Get("AccessKeyId")
	s.mu.Lock()
	c := s.creds.byID[id]
	verify := s.beh.verifySignature
	s.mu.Unlock()
	if id == "" || c == nil {
		return notFound(CodeInvalidAccessKeyID, "Specified access key is not found.")
	}
	if c.token != "" {
		if params.Get("SecurityToken") != c.token {
			return badRequest(CodeSecurityTokenMismatch, "The security token does not match the access key %s.", id)
		}
		if !c.expires.IsZero() && time.Now().After(c.expires) {
			return badRequest(CodeSecurityTokenExpired, "The security token of access key %s expired at %s.",
				id, c.expires.Format(time.RFC3339))
		}
	}
	if !verify {
		return nil
	}
	got := params.Get("Signature")
	want := rpcSignature(method, params, c.secret)
	if !hmac.Equal([]byte(got), []byte(want)) {
		// The string to sign lets the SDK tell a wrong secret from a
		// canonicalization bug; a security token in it is redacted so that
		// callers logging the error do not log the token.
		shown := params
		if params.Get("SecurityToken") != "" {
			shown = url.Values{}
			for k, v := range params {
				shown[k] = v
			}
			shown.Set("SecurityToken", "REDACTED")
		}
		return badRequest(CodeSignatureDoesNotMatch,
			"Specified signature is not matched with our calculation. server string to sign is:%s", rpcStringToSign(method, shown))
	}
	return nil
}

// rpcStringToSign rebuilds the string the SDK signs (sdk/auth
// rpc_signature_composer.go): every parameter but Signature, sorted and
// percent-encoded, then encoded again behind "METHOD&%2F&".
func rpcStringToSign(method string, params url.Values) string {
	sign := url.Values{}
	for k, v := range params {
		if k != "Signature" {
			sign[k] = v
		}
	}
	str := sign.Encode()
	str = strings.ReplaceAll(str, "+", "%20")
	str = strings.ReplaceAll(str, "*", "%2A")
	str = strings.ReplaceAll(str, "%7E", "~")
	return strings.ToUpper(method) + "&%2F&" + url.QueryEscape(str)
}

func rpcSignature(method string, params url.Values, secret string) string {
	mac := hmac.New(sha1.New, []byte(secret+"&"))
	mac.Write([]byte(rpcStringToSign(method, params)))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// roleCredential returns the RAM role credential of an instance, minting a
// new one when none exists or half its lifetime has passed (the real
// service rotates early too). Older ones stay valid until they expire.
// Callers hold s.mu.
func (s *Server) roleCredential(in *instance) (*credential, error) {
	key := in.id + "/" + in.ramRole
	now := time.Now().UTC()
	if c := s.creds.minted[key]; c != nil && now.Before(c.expires.Add(-s.beh.stsLifetime/2)) {
		return c, nil
	}
	for id, c := range s.creds.byID {
		if !c.expires.IsZero() && now.After(c.expires) {
			delete(s.creds.byID, id)
		}
	}
	idPart, err := randomHex(8)
	if err != nil {
		return nil, err
	}
	secret, err := randomHex(20)
	if err != nil {
		return nil, err
	}
	token, err := randomHex(32)
	if err != nil {
		return nil, err
	}
	id, token := s.w.d.stsIDs(idPart, token)
	c := &credential{id: id, secret: secret, token: token,
		expires: now.Add(s.beh.stsLifetime).Truncate(time.Second), updated: now.Truncate(time.Second)}
	s.creds.byID[c.id] = c
	s.creds.minted[key] = c
	return c, nil
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("mint credential: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// ramCredentialDoc is the document the SDK's ECS RAM role providers parse.
type ramCredentialDoc struct {
	AccessKeyID     string `json:"AccessKeyId"`
	AccessKeySecret string `json:"AccessKeySecret"`
	SecurityToken   string `json:"SecurityToken"`
	Expiration      string `json:"Expiration"`
	Code            string `json:"Code"`
	LastUpdated     string `json:"LastUpdated"`
}

const stsTimeFormat = "2006-01-02T15:04:05Z"

func (c *credential) doc() ramCredentialDoc {
	return ramCredentialDoc{AccessKeyID: c.id, AccessKeySecret: c.secret, SecurityToken: c.token,
		Expiration: c.expires.UTC().Format(stsTimeFormat), Code: "Success", LastUpdated: c.updated.UTC().Format(stsTimeFormat)}
}
