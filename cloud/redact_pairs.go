package cloud

import "strings"

// credentialWords end a key that names a credential, once '-' and '_' are
// dropped and the key is lower-cased: "X-Amz-Security-Token",
// "aws_access_key_id", "AccessKeySecret". A key must end with one, so that
// "SignatureMethod" or "secret.example.com:443" are left alone.
var credentialWords = []string{
	"token", "secret", "password", "passwd", "signature", "credential", "credentials",
	"authorization", "accesskey", "accesskeyid", "apikey", "privatekey",
}

// spacedPairKeys are the keys without '-' or '_' that, followed by ": ",
// still introduce a value (a YAML key, a header). Other words do not:
// "no credentials: set ...", "api error ExpiredToken: The security token
// ..." explain.
var spacedPairKeys = map[string]bool{
	"password": true, "passwd": true, "secret": true, "accesskeyid": true, "accesskeysecret": true,
	"securitytoken": true, "sessiontoken": true, "secretaccesskey": true, "apikey": true, "privatekey": true,
}

// authSchemes are the words that may precede the secret in an
// "Authorization: <scheme> <secret>" header.
var authSchemes = map[string]bool{
	"acs": true, "aws": true, "aws4-hmac-sha256": true, "basic": true, "bearer": true,
	"digest": true, "negotiate": true, "token": true,
}

// pair is a credential key found in a text, and its separator.
type pair struct {
	start     int // where the key (or its opening quote) starts
	key       string
	quotedKey bool
	// sep is "=", "%3D", "%253D" or ":", spaced if blanks came before it;
	// valueAt is just after it.
	sep     string
	spaced  bool
	valueAt int
}

// findPairs returns the credential keys of s in order. It looks at every
// separator and reads the key backwards from it, so each byte is read a
// bounded number of times.
func findPairs(s string) []pair {
	var out []pair
	for i := 0; i < len(s); i++ {
		var sep string
		switch {
		case s[i] == '=' || s[i] == ':':
			sep = s[i : i+1]
		case s[i] == '%' && hasPrefixFold(s[i:], "%3D"):
			sep = s[i : i+3]
		case s[i] == '%' && hasPrefixFold(s[i:], "%253D"):
			sep = s[i : i+5]
		default:
			continue
		}
		p := pair{sep: sep, valueAt: i + len(sep)}
		j := i
		if len(sep) == 1 {
			for j > 0 && (s[j-1] == ' ' || s[j-1] == '\t') {
				j--
			}
			p.spaced = j < i
		}
		closeQuote := j > 0 && s[j-1] == '"'
		if closeQuote {
			j--
			if j > 0 && s[j-1] == '\\' {
				j--
			}
		}
		k := j
		for k > 0 && (isAlnum(s[k-1]) || s[k-1] == '-' || s[k-1] == '_') {
			k--
		}
		p.key, p.start = s[k:j], k
		if !isCredentialKey(p.key) {
			continue
		}
		if closeQuote && k > 0 && s[k-1] == '"' {
			p.quotedKey = true
			p.start = k - 1
			if p.start > 0 && s[p.start-1] == '\\' {
				p.start--
			}
		} else if closeQuote {
			continue // `token"=`: not a key
		}
		out = append(out, p)
		i += len(sep) - 1
	}
	return out
}

// isCredentialKey reports whether key ends with a credential word.
func isCredentialKey(key string) bool {
	if key == "" {
		return false
	}
	for _, w := range credentialWords {
		if hasSuffixLoose(key, w) {
			return true
		}
	}
	return false
}

// hasSuffixLoose reports whether key ends with the lower-case word w,
// ignoring case and any '-' or '_' in key.
func hasSuffixLoose(key, w string) bool {
	i := len(key)
	for j := len(w) - 1; j >= 0; j-- {
		for i > 0 && (key[i-1] == '-' || key[i-1] == '_') {
			i--
		}
		if i == 0 || key[i-1]|0x20 != w[j] {
			return false
		}
		i--
	}
	return true
}

// redactPairs replaces the value of every credential pair in s.
func redactPairs(s string) string {
	pairs := findPairs(s)
	if pairs == nil {
		return s
	}
	var b strings.Builder
	done := 0 // s[:done] is written
	for i, p := range pairs {
		if p.start < done {
			continue // the key is inside a value already redacted
		}
		// A value ends where the next pair starts ("BearerToken:
		// SecurityToken:x", "Authorization: AWS4-HMAC-SHA256
		// Credential=x" redact the inner pair's value).
		limit := len(s)
		if i+1 < len(pairs) {
			limit = pairs[i+1].start
			if limit > 0 && s[limit-1] == '%' {
				limit-- // the next key was read after the '%' of "%26"
			}
		}
		start, end := valueSpan(s[:limit], p)
		if end <= start || s[start:end] == Redacted {
			continue
		}
		b.WriteString(s[done:start])
		b.WriteString(Redacted)
		done = end
	}
	if done == 0 {
		return s
	}
	b.WriteString(s[done:])
	return b.String()
}

// valueSpan returns where the value of p starts and ends in s. An empty
// span means there is nothing to redact.
func valueSpan(s string, p pair) (int, int) {
	at := p.valueAt
	i := at
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	if i > at && p.sep == "=" && !p.spaced {
		// "Signature= next": the value is empty.
		return at, at
	}
	spaced := i > at || p.spaced
	at = i
	if q := quoteAt(s, at); q != "" {
		start := at + len(q)
		end := strings.Index(s[start:], q)
		if nl := strings.IndexAny(s[start:], "\r\n"); end < 0 || (nl >= 0 && nl < end) {
			end = nl
		}
		if end < 0 {
			end = len(s) - start
		}
		return start, start + end
	}
	auth := strings.EqualFold(p.key, "authorization")
	if spaced && p.sep == ":" && !p.quotedKey && !auth &&
		!strings.ContainsAny(p.key, "-_") && !spacedPairKeys[strings.ToLower(p.key)] {
		// "no credentials: set ...", "api error ExpiredToken: The ..."
		// are prose; "password: x", "X-Amz-Security-Token: x" are pairs.
		return at, at
	}
	if auth {
		// "Authorization: Bearer <secret>" keeps the scheme; Alibaba's
		// "acs <id>:<signature>" holds a colon.
		if word := wordAt(s, at); authSchemes[strings.ToLower(word)] && at+len(word) < len(s) && s[at+len(word)] == ' ' {
			at += len(word) + 1
		}
		return at, at + unquotedValueLen(s[at:], "")
	}
	return at, at + unquotedValueLen(s[at:], ":")
}

// quoteAt returns the quote opening a value at s[at:]: `"`, `\"` (inside a
// JSON-encoded string) or "'"; "" if the value is not quoted.
func quoteAt(s string, at int) string {
	for _, q := range []string{`\"`, `"`, `'`} {
		if strings.HasPrefix(s[at:], q) {
			return q
		}
	}
	return ""
}

// wordAt returns the run of letters, digits and '-' at s[at:].
func wordAt(s string, at int) string {
	i := at
	for i < len(s) && (isAlnum(s[i]) || s[i] == '-') {
		i++
	}
	return s[at:i]
}

// unquotedValueLen is the length of an unquoted value at the start of v: it
// ends at a space, a quote, a bracket, a separator or one of the bytes in
// stop, and at "&" also when URL-escaped once (%26) or twice (%2526).
// Credentials never hold these characters: keys are alphanumeric, tokens
// and signatures base64 (escaped or not).
func unquotedValueLen(v, stop string) int {
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case ' ', '\t', '\r', '\n', '&', '"', '\'', '\\', '<', '>', ',', ';', '(', ')', '[', ']', '{', '}':
			return i
		case '%':
			if hasPrefixFold(v[i:], "%26") || hasPrefixFold(v[i:], "%2526") {
				return i
			}
		default:
			if strings.IndexByte(stop, c) >= 0 {
				return i
			}
		}
	}
	return len(v)
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
