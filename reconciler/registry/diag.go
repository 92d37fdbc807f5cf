package registry

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// probeTimeout bounds each diagnostic probe after a failed connect.
const probeTimeout = time.Second

// describeConnectError turns a failed connect into one line with the
// password scrubbed, whatever the error says. A timeout, which the gRPC
// client reports without its cause, is explained by probing the endpoints.
func describeConnectError(opts Options, tlsCfg *tls.Config, err error) string {
	if errors.Is(err, context.DeadlineExceeded) || status.Code(err) == codes.DeadlineExceeded {
		return scrub(opts, fmt.Sprintf("no answer within %s: %s", opts.DialTimeout, diagnose(opts, tlsCfg)))
	}
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	switch {
	case errors.Is(err, rpctypes.ErrUserEmpty):
		msg += ": etcd requires authentication; expected etcd-username and etcd-password"
	case errors.Is(err, rpctypes.ErrAuthFailed):
		msg += fmt.Sprintf(": etcd-username %q or etcd-password was refused", opts.Username)
	case errors.Is(err, rpctypes.ErrPermissionDenied):
		msg += fmt.Sprintf(": etcd-username %q needs read-write permission on %s%s/", opts.Username, keyRoot, opts.Cluster)
	}
	return scrub(opts, msg)
}

// scrub removes the password from text, should any error ever echo it.
func scrub(opts Options, s string) string {
	if opts.Password != "" {
		s = strings.ReplaceAll(s, opts.Password, "***")
	}
	return s
}

// diagnose explains why no endpoint answered: the gRPC client only says
// "context deadline exceeded". It probes each endpoint once, directly, and
// returns the first useful finding.
func diagnose(opts Options, tlsCfg *tls.Config) string {
	var findings []string
	for _, ep := range opts.Endpoints {
		findings = append(findings, fmt.Sprintf("%s: %s", ep, probe(ep, tlsCfg)))
	}
	return scrub(opts, strings.Join(findings, "; "))
}

// probe checks one endpoint: TCP reachability, then whether the server's
// TLS setting matches the endpoint's scheme.
func probe(ep string, tlsCfg *tls.Config) string {
	u, err := url.Parse(ep)
	if err != nil {
		return err.Error()
	}
	conn, err := net.DialTimeout("tcp", u.Host, probeTimeout)
	if err != nil {
		return err.Error()
	}
	conn.Close()

	if u.Scheme == "http" {
		if speaksTLS(u.Host) {
			return "the server speaks TLS: expected an https:// endpoint with etcd-ca-file (and etcd-cert-file/etcd-key-file if it requires client certificates)"
		}
		return "the port accepts connections but etcd did not answer (not etcd, overloaded, or without quorum)"
	}
	client := &http.Client{Timeout: probeTimeout, Transport: &http.Transport{TLSClientConfig: tlsCfg.Clone()}}
	defer client.CloseIdleConnections()
	resp, err := client.Get(ep + "/version")
	if err != nil {
		var rerr tls.RecordHeaderError
		if errors.As(err, &rerr) {
			return "the server does not speak TLS: expected an http:// endpoint"
		}
		if msg := err.Error(); strings.Contains(msg, "bad certificate") || strings.Contains(msg, "certificate required") {
			return fmt.Sprintf("the server refused this client's certificate (%v): expected etcd-cert-file/etcd-key-file signed by a CA the server trusts", err)
		}
		return fmt.Sprintf("TLS: %v", err)
	}
	resp.Body.Close()
	return "TLS works but etcd did not answer the request (overloaded or without quorum)"
}

// speaksTLS reports whether a TLS handshake with addr gets a TLS answer,
// even a refusal such as "certificate required".
func speaksTLS(addr string) bool {
	d := &net.Dialer{Timeout: probeTimeout}
	conn, err := tls.DialWithDialer(d, "tcp", addr, &tls.Config{InsecureSkipVerify: true}) // only asks "is this TLS?"; no data is sent
	if err == nil {
		conn.Close()
		return true
	}
	var rerr tls.RecordHeaderError
	if errors.As(err, &rerr) {
		return false
	}
	return strings.Contains(err.Error(), "remote error: tls")
}
