package registry

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/vpcroute/vpcroute/cloud"
)

// Defaults applied by Open when a duration is zero.
const (
	// DefaultDialTimeout bounds connecting (and authenticating) in Open.
	DefaultDialTimeout = 5 * time.Second
	// DefaultRequestTimeout bounds every single etcd request that the
	// caller's context does not bound more tightly, so that no call hangs
	// while etcd is down.
	DefaultRequestTimeout = 5 * time.Second
	// DefaultWatchProgressInterval is how often a quiet host watch asks
	// etcd to confirm that it is still delivering (a progress request).
	DefaultWatchProgressInterval = 5 * time.Second
)

// Options configure the connection to etcd. Field names in Validate's
// errors are the daemon's flag names (etcd-endpoints, etcd-cert-file, ...).
type Options struct {
	// Endpoints are etcd client URLs, http://host:port or https://host:port,
	// all with the same scheme.
	Endpoints []string
	// DialTimeout bounds Open; zero means DefaultDialTimeout.
	DialTimeout time.Duration
	// RequestTimeout bounds each request; zero means DefaultRequestTimeout.
	RequestTimeout time.Duration
	// WatchProgressInterval is how often WatchHosts asks etcd for a
	// progress notification while no change arrives; zero means
	// DefaultWatchProgressInterval.
	WatchProgressInterval time.Duration
	// CertFile and KeyFile are a client certificate pair (both or neither);
	// CAFile verifies the server (empty: the system roots). Setting any of
	// them, or using https:// endpoints, turns TLS on.
	CertFile, KeyFile, CAFile string
	// Username and Password authenticate to etcd (both or neither). The
	// password is never logged, printed or put in an error.
	Username, Password string
	// AllowInsecureCredentials lets Username and Password go to http://
	// endpoints, where anyone on the path reads them. Without it they
	// need https://.
	AllowInsecureCredentials bool
	// Cluster names the key space /vpcroute/<cluster>/.
	Cluster string
	// Logger receives the registry's logs; nil discards them.
	Logger *zap.Logger
}

// Validate checks the options without touching the network or the files.
// Its errors are one line and name the field, the value and what is
// expected; the password never appears.
func (o Options) Validate() error {
	if err := cloud.ValidateClusterName(o.Cluster); err != nil {
		return err
	}
	if len(o.Endpoints) == 0 {
		return fmt.Errorf("etcd-endpoints is empty: expected at least one URL such as http://127.0.0.1:2379")
	}
	scheme := ""
	for _, ep := range o.Endpoints {
		s, err := endpointScheme(ep)
		if err != nil {
			return err
		}
		if scheme != "" && s != scheme {
			return fmt.Errorf("etcd-endpoints %q mixes http and https: expected one scheme for all endpoints", shownEndpoints(o.Endpoints))
		}
		scheme = s
	}
	if o.DialTimeout < 0 {
		return fmt.Errorf("etcd-dial-timeout %s is invalid: expected a positive duration such as 5s", o.DialTimeout)
	}
	if o.RequestTimeout < 0 {
		return fmt.Errorf("etcd-request-timeout %s is invalid: expected a positive duration such as 5s", o.RequestTimeout)
	}
	if o.WatchProgressInterval < 0 {
		return fmt.Errorf("watch progress interval %s is invalid: expected a positive duration such as 5s", o.WatchProgressInterval)
	}
	if (o.CertFile == "") != (o.KeyFile == "") {
		return fmt.Errorf("etcd-cert-file %q and etcd-key-file %q must be given together: expected both or neither", o.CertFile, o.KeyFile)
	}
	if o.tlsEnabled() && scheme == "http" {
		return fmt.Errorf("etcd-endpoints %q use http:// but TLS files are set: expected https:// endpoints", shownEndpoints(o.Endpoints))
	}
	if o.Username == "" && o.Password != "" {
		return fmt.Errorf("etcd-username is empty but etcd-password is set: expected both or neither")
	}
	if o.Username != "" && o.Password == "" {
		return fmt.Errorf("etcd-password is empty but etcd-username %q is set: expected both or neither", o.Username)
	}
	if o.Username != "" && scheme == "http" && !o.AllowInsecureCredentials {
		return fmt.Errorf("etcd-endpoints %q use http:// but etcd-username %q and its password are set: "+
			"they would cross the network in clear text; expected https:// endpoints (or etcd-allow-insecure-credentials on a trusted network)",
			shownEndpoints(o.Endpoints), o.Username)
	}
	return nil
}

// endpointScheme checks one endpoint and returns its scheme.
func endpointScheme(ep string) (string, error) {
	bad := func(why string) error {
		return fmt.Errorf("etcd-endpoints %q is invalid: %sexpected http(s)://host:port", MaskEndpoint(ep), why)
	}
	u, err := url.Parse(ep)
	if err != nil || u.Host == "" {
		return "", bad("")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", bad("")
	}
	if u.User != nil {
		// Credentials in the URL would end up in logs and errors.
		return "", bad("credentials in the URL are not allowed (use etcd-username and etcd-password-file or VPCROUTE_ETCD_PASSWORD); ")
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", bad("")
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil || host == "" {
		return "", bad("")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", bad("")
	}
	return u.Scheme, nil
}

// MaskEndpoint returns an endpoint as it may be shown: the password of any
// user:password@ part replaced by ***, even when the rest does not parse
// as a URL. The user name stays, so that an operator can tell endpoints
// apart.
func MaskEndpoint(ep string) string {
	scheme, rest, ok := strings.Cut(ep, "://")
	if !ok {
		scheme, rest = "", ep
	} else {
		scheme += "://"
	}
	// The last @ ends the user information: a password may hold @ or /.
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return ep
	}
	user, _, hasPassword := strings.Cut(rest[:at], ":")
	if hasPassword {
		user += ":***"
	}
	return scheme + user + rest[at:]
}

// shownEndpoints joins endpoints for an error message, each masked.
func shownEndpoints(eps []string) string {
	shown := make([]string, len(eps))
	for i, ep := range eps {
		shown[i] = MaskEndpoint(ep)
	}
	return strings.Join(shown, ",")
}

// tlsEnabled reports whether any TLS file is configured.
func (o Options) tlsEnabled() bool {
	return o.CertFile != "" || o.KeyFile != "" || o.CAFile != ""
}

// withDefaults fills zero durations and the logger.
func (o Options) withDefaults() Options {
	if o.DialTimeout == 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	if o.RequestTimeout == 0 {
		o.RequestTimeout = DefaultRequestTimeout
	}
	if o.WatchProgressInterval == 0 {
		o.WatchProgressInterval = DefaultWatchProgressInterval
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	return o
}

// String describes the options with the password masked, so printing
// Options (%v, %+v, %s) never reveals it.
func (o Options) String() string {
	pw := ""
	if o.Password != "" {
		pw = "***"
	}
	return fmt.Sprintf("{Endpoints:[%s] DialTimeout:%s RequestTimeout:%s CertFile:%q KeyFile:%q CAFile:%q Username:%q Password:%q AllowInsecureCredentials:%t Cluster:%q}",
		strings.ReplaceAll(shownEndpoints(o.Endpoints), ",", " "), o.DialTimeout, o.RequestTimeout, o.CertFile, o.KeyFile, o.CAFile,
		o.Username, pw, o.AllowInsecureCredentials, o.Cluster)
}

// GoString masks the password for %#v too.
func (o Options) GoString() string { return "registry.Options" + o.String() }
