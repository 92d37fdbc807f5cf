package registry

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/url"
	"os"
)

// tlsConfig builds the client TLS configuration: nil for plain http://
// endpoints, otherwise TLS 1.2+ trusting CAFile (or the system roots) and
// presenting CertFile/KeyFile when set.
func (o Options) tlsConfig() (*tls.Config, error) {
	https := false
	for _, ep := range o.Endpoints {
		if u, err := url.Parse(ep); err == nil && u.Scheme == "https" {
			https = true
		}
	}
	if !https && !o.tlsEnabled() {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.CertFile != "" {
		pair, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("etcd-cert-file %q / etcd-key-file %q cannot be loaded: %v; expected a PEM certificate and its private key", o.CertFile, o.KeyFile, err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	if o.CAFile != "" {
		b, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("etcd-ca-file %q cannot be read: %v; expected a PEM CA certificate", o.CAFile, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("etcd-ca-file %q holds no PEM certificate: expected a PEM CA certificate", o.CAFile)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}
