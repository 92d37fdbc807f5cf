package cloud

import "strings"

// Redacted replaces a secret that Redact removed.
const Redacted = "[redacted]"

// Redact returns s without the credentials it may carry, for error texts
// that leave the process (logs, /status, the registry, the terminal):
//   - the query string and fragment of every URL become "?[redacted]": a
//     signed request's URL (Alibaba's RPC calls, a presigned AWS URL) holds
//     the access key, the security token and the signature;
//   - the userinfo of every URL becomes "[redacted]@";
//   - the value of every pair whose key names a credential (AccessKeyId,
//     AccessKeySecret, SecurityToken, Signature, X-Amz-Security-Token,
//     X-Amz-Credential, Authorization, password, token, secret, ...; any
//     case) becomes "[redacted]": key=value, also URL-escaped
//     (key%3Dvalue%26...), JSON ("SecurityToken":"..."), Go's %+v
//     (SecurityToken:...) and headers or YAML (X-Amz-Security-Token: ...).
//
// Scheme, host and path stay, so the text still says what failed. Redact is
// idempotent, linear in len(s), and returns text without credentials
// unchanged.
func Redact(s string) string {
	if !mayHoldSecret(s) {
		return s
	}
	return redactPairs(redactURLs(s))
}

// mayHoldSecret is Redact's fast path: most log lines and errors hold no
// URL and no credential word.
func mayHoldSecret(s string) bool {
	if strings.Contains(s, "://") {
		return true
	}
	l := strings.ToLower(s)
	for _, w := range []string{"token", "secret", "passw", "signature", "credential", "authorization", "key"} {
		if strings.Contains(l, w) {
			return true
		}
	}
	return false
}

// redactURLs redacts every URL in s: a scheme, "://", and everything up
// to a space, a quote, an angle bracket or a backslash (the end of a URL
// quoted by net/url's errors, or inside a JSON-encoded string).
func redactURLs(s string) string {
	var b strings.Builder
	done := 0 // s[:done] is written
	for i := 0; ; {
		k := strings.Index(s[i:], "://")
		if k < 0 {
			break
		}
		sep := i + k
		start := sep
		for start > done && isSchemeByte(s[start-1]) {
			start--
		}
		for start < sep && !isLetter(s[start]) {
			start++ // a scheme starts with a letter
		}
		end := sep + 3
		for end < len(s) && !strings.ContainsRune(" \t\r\n\"'<>\\", rune(s[end])) {
			end++
		}
		if start == sep {
			i = sep + 3 // "://" without a scheme
			continue
		}
		b.WriteString(s[done:start])
		b.WriteString(redactURL(s[start:end]))
		done, i = end, end
	}
	if done == 0 {
		return s
	}
	b.WriteString(s[done:])
	return b.String()
}

// redactURL redacts one URL found by redactURLs.
func redactURL(u string) string {
	scheme, rest, _ := strings.Cut(u, "://")
	// A URL that ends a sentence or a parenthesis keeps that punctuation.
	trail := len(rest)
	for trail > 0 && strings.IndexByte(").,;:", rest[trail-1]) >= 0 {
		trail--
	}
	rest, tail := rest[:trail], rest[trail:]
	end := strings.IndexAny(rest, "?#")
	if end < 0 {
		end = len(rest)
	}
	var b strings.Builder
	b.WriteString(scheme)
	b.WriteString("://")
	if at := userinfoEnd(rest[:end]); at >= 0 {
		b.WriteString(Redacted)
		rest, end = rest[at:], end-at
	}
	b.WriteString(rest[:end])
	if end < len(rest) {
		b.WriteByte(rest[end])
		b.WriteString(Redacted)
	}
	b.WriteString(tail)
	return b.String()
}

// userinfoEnd returns the index of the '@' ending the userinfo of a URL
// whose scheme is cut off (s is authority and path), or -1. A password may
// hold an unescaped '/' (invalid, but typed anyway): a ':' before the first
// '/' and an '@' later still mark userinfo.
func userinfoEnd(s string) int {
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return -1
	}
	slash := strings.IndexByte(s, '/')
	if slash < 0 || slash > at || strings.Contains(s[:slash], ":") {
		return at
	}
	return -1
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isAlnum(c byte) bool { return isLetter(c) || c >= '0' && c <= '9' }

func isSchemeByte(c byte) bool { return isAlnum(c) || c == '+' || c == '.' || c == '-' }

// RedactError returns err with its text passed through Redact; errors.Is
// and errors.As still see err and everything it wraps. Nil stays nil, and
// an error whose text holds nothing to redact is returned as it is.
func RedactError(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	clean := Redact(msg)
	if clean == msg {
		return err
	}
	return &redactedError{msg: clean, err: err}
}

// redactedError is an error whose text was scrubbed of credentials.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }

// Unwrap keeps errors.Is and errors.As working through the redaction.
func (e *redactedError) Unwrap() error { return e.err }
