package cloud

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"go.uber.org/zap"
)

// Settings are what every provider is built from. The CLI fills them once
// from its flags; a provider's own settings come from the flags its
// Spec.Flags declared. Each provider's Options embeds Settings and adds
// only its own fields; Validate and WithDefaults are the checks and
// defaults they share.
type Settings struct {
	// Endpoint is one URL for the provider's APIs (the simulator, a
	// private endpoint): a scheme and a host, nothing else. Empty: the
	// provider's production endpoints. A URL without a scheme is taken as
	// HTTPS; plain HTTP only when given as http://.
	Endpoint string
	// MetadataEndpoint is the base URL of the instance metadata service,
	// for identity (and credentials where the provider reads them there).
	// A path in the URL is kept, so that one simulator can answer for
	// several instances. Empty: the provider's own.
	MetadataEndpoint string
	// Region, InstanceID, VPCID and PrivateIP override what metadata says.
	Region     string
	InstanceID string
	VPCID      string
	PrivateIP  netip.Addr
	// VPCCIDRs override the VPC's ranges read from the cloud.
	VPCCIDRs []netip.Prefix
	// RouteTables limits management to these tables; empty: the VPC's.
	RouteTables []string
	// Cluster is the ownership mark of every route the provider writes,
	// and ClusterCIDR holds every destination it may write: the provider
	// knows its cluster from here, its writes take none. Empty Cluster:
	// the provider only reads.
	Cluster     string
	ClusterCIDR netip.Prefix
	// RetryTimeout bounds the retries of one API call (conflicts,
	// throttling, server trouble, transport failures).
	RetryTimeout time.Duration
	// Logger receives one line per write call and per retry.
	Logger *zap.Logger
	// Observer is told about every API call, each retry included
	// (metadata and credential requests are not API calls); nil means
	// NopObserver.
	Observer CallObserver
}

// DefaultRetryTimeout is Settings.RetryTimeout when none is given.
const DefaultRetryTimeout = 3 * time.Minute

// WithDefaults returns s with the zero values every provider defaults the
// same way replaced: RetryTimeout, Logger and Observer. A provider's own
// defaults (its metadata endpoint, its timeouts) are its own.
func (s Settings) WithDefaults() Settings {
	if s.RetryTimeout <= 0 {
		s.RetryTimeout = DefaultRetryTimeout
	}
	if s.Logger == nil {
		s.Logger = zap.NewNop()
	}
	if s.Observer == nil {
		s.Observer = NopObserver{}
	}
	return s
}

// Validate returns a one-line error, naming the command-line flag, for the
// first setting no provider could use: a malformed endpoint or metadata
// URL, a cluster name outside the shared rule, an address or range that is
// not IPv4, a negative retry timeout. A provider adds its own checks (ID
// formats, region names, its own fields) after these.
func (s Settings) Validate() error {
	if s.Endpoint != "" {
		if _, err := ParseEndpoint(s.Endpoint); err != nil {
			return err
		}
	}
	if s.MetadataEndpoint != "" {
		u, err := url.Parse(s.MetadataEndpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
			return fmt.Errorf("metadata-endpoint %q is invalid: expected an http:// or https:// URL without a query, such as http://127.0.0.1:8080/latest", s.MetadataEndpoint)
		}
	}
	if s.PrivateIP.IsValid() && !s.PrivateIP.Is4() {
		return fmt.Errorf("private-ip %q is invalid: expected an IPv4 address", s.PrivateIP)
	}
	for _, c := range s.VPCCIDRs {
		if !c.IsValid() || !c.Addr().Is4() {
			return fmt.Errorf("vpc-cidr %q is invalid: expected an IPv4 CIDR such as 172.31.0.0/16", c)
		}
	}
	if s.Cluster != "" {
		if err := ValidateClusterName(s.Cluster); err != nil {
			return err
		}
	}
	if s.ClusterCIDR.IsValid() && !s.ClusterCIDR.Addr().Is4() {
		return fmt.Errorf("cluster-cidr %q is invalid: expected an IPv4 CIDR such as 10.0.0.0/8", s.ClusterCIDR)
	}
	if s.RetryTimeout < 0 {
		return fmt.Errorf("cloud-retry-timeout %s is invalid: expected a positive duration", s.RetryTimeout)
	}
	return nil
}

// ParseEndpoint returns an API endpoint as a URL of a scheme (http or
// https) and a host: what an SDK's base endpoint takes. A URL without a
// scheme is taken as HTTPS; one with a path or a query is refused, as the
// SDKs would drop or misplace them.
func ParseEndpoint(endpoint string) (*url.URL, error) {
	raw := endpoint
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return nil, fmt.Errorf("endpoint %q is invalid: expected a URL of a scheme and a host only, such as https://api.example.com or http://127.0.0.1:8080", endpoint)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("endpoint %q is invalid: scheme must be http or https", endpoint)
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host}, nil
}

// IDFormat is how one kind of a provider's resource IDs looks: a prefix,
// then 1 to 40 lowercase letters, digits or '-'. Real IDs are hex
// (i-0abc...), the simulator's are words (i-aaa, rtb-lab); both pass,
// while a typo such as "vpc_123" or another cloud's ID is caught.
type IDFormat struct {
	// Flag names the setting in messages ("instance-id").
	Flag string
	// Prefix starts every ID ("i-").
	Prefix string
	// What says what is expected ("an EC2 instance ID (i-...)").
	What string
}

// Check returns a one-line error naming the flag when id is not of the
// format (an empty id is not: callers skip a setting not given).
func (f IDFormat) Check(id string) error {
	if f.Valid(id) {
		return nil
	}
	return fmt.Errorf("%s %q is invalid: expected %s", f.Flag, id, f.What)
}

// IDFormats are a provider's formats of the IDs Settings name.
type IDFormats struct {
	Instance, VPC, RouteTable IDFormat
}

// ValidateIDs returns a one-line error for the first of InstanceID, VPCID
// and RouteTables that is given and not of the provider's format.
func (s Settings) ValidateIDs(f IDFormats) error {
	if s.InstanceID != "" {
		if err := f.Instance.Check(s.InstanceID); err != nil {
			return err
		}
	}
	if s.VPCID != "" {
		if err := f.VPC.Check(s.VPCID); err != nil {
			return err
		}
	}
	for _, id := range s.RouteTables {
		if err := f.RouteTable.Check(id); err != nil {
			return err
		}
	}
	return nil
}

// Valid reports whether id is the prefix and 1 to 40 lowercase letters,
// digits or '-'.
func (f IDFormat) Valid(id string) bool {
	rest, ok := strings.CutPrefix(id, f.Prefix)
	if !ok || rest == "" || len(rest) > 40 {
		return false
	}
	for _, c := range rest {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}
