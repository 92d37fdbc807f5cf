package status

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// schemaPrefix is SchemaVersion without its major.
const schemaPrefix = "vpcroute.status/v"

// knownMajor is the schema major this package reads.
const knownMajor = 1

// maxDocumentBytes bounds what Fetch reads; a document of a thousand hosts
// is well under a megabyte.
const maxDocumentBytes = 16 << 20

// fetchTimeout applies when ctx has no deadline of its own.
const fetchTimeout = 10 * time.Second

// Fetch reads the status document of the daemon at addr: "host:port" (the
// --status-addr form, GET http://host:port/status) or an http(s) URL (its
// path defaults to /status). It fails with a one-line error when nothing
// listens, the reply is not a status document, or the document's schema
// major is not one this package reads.
func Fetch(ctx context.Context, addr string) (Document, error) {
	u, err := statusURL(addr)
	if err != nil {
		return Document{}, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, fetchTimeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return Document{}, fmt.Errorf("status address %q: %w", addr, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return Document{}, fetchError(u, err)
	}
	defer func() { _ = resp.Body.Close() }() // read-only; nothing to lose
	body := io.LimitReader(resp.Body, maxDocumentBytes)
	if resp.StatusCode != http.StatusOK {
		line, _ := bufio.NewReader(body).ReadString('\n') // best effort, for the message only
		return Document{}, fmt.Errorf("status from %s: HTTP %d: %s", u, resp.StatusCode, strings.TrimSpace(line))
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		return Document{}, fmt.Errorf("status from %s: read: %w", u, err)
	}
	return Decode(raw, u)
}

// Decode parses a status document and checks its schema version; source
// names where it came from in errors.
func Decode(raw []byte, source string) (Document, error) {
	// The version is checked before the rest: a v2 document may not even
	// decode into v1's types, and its error should say "version", not a
	// type mismatch.
	var head struct {
		SchemaVersion string `json:"schemaVersion"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return Document{}, fmt.Errorf("status from %s: not a vpcroute status document (invalid JSON: %v)", source, err)
	}
	if err := checkSchema(head.SchemaVersion); err != nil {
		return Document{}, fmt.Errorf("status from %s: %w", source, err)
	}
	var d Document
	if err := json.Unmarshal(raw, &d); err != nil {
		return Document{}, fmt.Errorf("status from %s: decode %s document: %v", source, head.SchemaVersion, err)
	}
	return d, nil
}

// checkSchema accepts "vpcroute.status/v1" and any "vpcroute.status/v1.N"
// (additive, readable); it rejects other majors and non-status documents.
func checkSchema(v string) error {
	if v == "" {
		return fmt.Errorf("not a vpcroute status document (no schemaVersion; expected %s)", SchemaVersion)
	}
	rest, ok := strings.CutPrefix(v, schemaPrefix)
	major, _, _ := strings.Cut(rest, ".")
	n, err := strconv.Atoi(major)
	if !ok || err != nil || n < 1 {
		return fmt.Errorf("schemaVersion %q is not a vpcroute status schema; expected %s", v, SchemaVersion)
	}
	if n != knownMajor {
		return fmt.Errorf("schemaVersion %q is not supported; this vpcroute reads %s (use a vpcroute of the daemon's version)", v, SchemaVersion)
	}
	return nil
}

// statusURL turns addr into the URL of the /status endpoint.
func statusURL(addr string) (string, error) {
	if addr == "" {
		return "", fmt.Errorf("status address is empty: expected host:port (e.g. %s) or an http(s) URL", DefaultAddr)
	}
	if !strings.Contains(addr, "://") {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return "", fmt.Errorf("status address %q: expected host:port (e.g. %s) or an http(s) URL", addr, DefaultAddr)
		}
		return "http://" + addr + "/status", nil
	}
	u, err := url.Parse(addr)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("status address %q: expected host:port (e.g. %s) or an http(s) URL", addr, DefaultAddr)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/status"
	}
	return u.String(), nil
}

// fetchError names the usual causes instead of a raw transport error.
func fetchError(u string, err error) error {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("no vpcroute status at %s: connection refused (is the daemon running, and is this its --status-addr?)", u)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("no vpcroute status at %s: no answer in time", u)
	}
	return fmt.Errorf("no vpcroute status at %s: %w", u, err)
}

// client talks to status endpoints directly: they live on loopback or in
// the VPC, where an HTTP proxy from the environment would be wrong.
var client = &http.Client{Transport: &http.Transport{
	Proxy:               nil,
	DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
	TLSHandshakeTimeout: 5 * time.Second,
	MaxIdleConns:        2,
	IdleConnTimeout:     30 * time.Second,
}}
