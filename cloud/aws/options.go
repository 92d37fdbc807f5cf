package aws

import (
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/vpcroute/vpcroute/cloud"
)

// Options configures the EC2 provider. Zero values take the production
// defaults; each identity field overrides what the instance metadata
// service (IMDSv2) says.
type Options struct {
	// Endpoint is the EC2 API URL (the simulator, a VPC endpoint). Empty:
	// the SDK's regional endpoint (which AWS_ENDPOINT_URL_EC2 also sets).
	// A URL without a scheme is taken as HTTPS.
	Endpoint string
	// MetadataEndpoint is the base URL of the instance metadata service,
	// for identity and for the instance role's credentials. Empty: the
	// SDK's (http://169.254.169.254). A path in the URL is kept, so that
	// one simulator can answer for several instances.
	MetadataEndpoint string
	// Region, InstanceID, VPCID, PrivateIP and NetworkInterfaceID (the
	// primary ENI, which this host's routes target) override metadata.
	Region             string
	InstanceID         string
	VPCID              string
	PrivateIP          netip.Addr
	NetworkInterfaceID string
	// VPCCIDRs overrides the VPC's ranges read with DescribeVpcs.
	VPCCIDRs []netip.Prefix
	// RouteTables limits management to these tables. Empty: every route
	// table of the VPC, or with RouteTableTag only those tagged
	// vpcroute:cluster=<Cluster>.
	RouteTables   []string
	RouteTableTag bool
	// Cluster and ClusterCIDR decide ownership: EC2 routes carry no name
	// or tag, so a route is the cluster's when it was made by CreateRoute,
	// its destination lies inside ClusterCIDR and its target ENI is tagged
	// vpcroute:cluster=<Cluster> (see ownership.go). Give both or neither;
	// with neither, nothing is owned and nothing can be written.
	Cluster     string
	ClusterCIDR netip.Prefix
	// MutatingRate and MutatingBurst size the client-side token bucket
	// every mutating call waits on (EC2's own bucket: 5/s, 50).
	MutatingRate  float64
	MutatingBurst int
	// ChangeTimeout bounds the wait for a created route to be listed.
	ChangeTimeout time.Duration
	// RetryTimeout bounds the retries of one call (throttling, 5xx,
	// transport failures).
	RetryTimeout time.Duration
	// CallTimeout bounds one HTTP call.
	CallTimeout time.Duration
	// Logger receives one line per write call and per retry.
	Logger *zap.Logger
	// Observer is told about every EC2 API call, each retry included
	// (metadata and credential requests are not API calls); nil means
	// cloud.NopObserver.
	Observer cloud.CallObserver

	// httpClient, set only by tests, replaces the HTTP client of every
	// request (EC2, IMDS, credentials) with one that dials loopback only.
	httpClient *http.Client
}

// Defaults for Options.
const (
	DefaultMutatingRate  = 5.0
	DefaultMutatingBurst = 50
	DefaultChangeTimeout = 1 * time.Minute
	DefaultRetryTimeout  = 3 * time.Minute
	DefaultCallTimeout   = 20 * time.Second
)

// withDefaults returns o with zero values replaced by defaults.
func (o Options) withDefaults() Options {
	if o.MutatingRate <= 0 {
		o.MutatingRate = DefaultMutatingRate
	}
	if o.MutatingBurst <= 0 {
		o.MutatingBurst = DefaultMutatingBurst
	}
	if o.ChangeTimeout <= 0 {
		o.ChangeTimeout = DefaultChangeTimeout
	}
	if o.RetryTimeout <= 0 {
		o.RetryTimeout = DefaultRetryTimeout
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = DefaultCallTimeout
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.Observer == nil {
		o.Observer = cloud.NopObserver{}
	}
	return o
}

// regionPattern matches AWS region names: us-east-1, eu-central-2,
// us-gov-west-1, cn-north-1, ap-southeast-4.
var regionPattern = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

// validID reports whether id has the prefix and a non-empty rest of
// lowercase letters, digits and '-'. Real IDs are hex (i-0abc...), the
// simulator's are words (i-aaa, rtb-lab); both pass, while a typo such as
// "vpc_123" or an Alibaba "vtb-" ID is caught.
func validID(prefix, id string) bool {
	rest, ok := strings.CutPrefix(id, prefix)
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

// Validate returns a one-line error for the first bad field, naming the
// command-line flag that sets it.
func (o Options) Validate() error {
	if o.Endpoint != "" {
		if _, err := parseEndpoint(o.Endpoint); err != nil {
			return err
		}
	}
	if o.MetadataEndpoint != "" {
		u, err := url.Parse(o.MetadataEndpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
			return fmt.Errorf("metadata-endpoint %q is invalid: expected an http:// or https:// URL such as http://169.254.169.254", o.MetadataEndpoint)
		}
	}
	if o.Region != "" && !regionPattern.MatchString(o.Region) {
		return fmt.Errorf("region %q is invalid: expected an AWS region such as us-east-1", o.Region)
	}
	ids := []struct{ flag, prefix, value, what string }{
		{"instance-id", "i-", o.InstanceID, "an EC2 instance ID (i-...)"},
		{"vpc-id", "vpc-", o.VPCID, "a VPC ID (vpc-...)"},
		{"network-interface-id", "eni-", o.NetworkInterfaceID, "a network interface ID (eni-...)"},
	}
	for _, f := range ids {
		if f.value != "" && !validID(f.prefix, f.value) {
			return fmt.Errorf("%s %q is invalid: expected %s", f.flag, f.value, f.what)
		}
	}
	if o.PrivateIP.IsValid() && !o.PrivateIP.Is4() {
		return fmt.Errorf("private-ip %q is invalid: expected an IPv4 address", o.PrivateIP)
	}
	for _, id := range o.RouteTables {
		if !validID("rtb-", id) {
			return fmt.Errorf("route-table %q is invalid: expected an EC2 route table ID (rtb-...)", id)
		}
	}
	for _, c := range o.VPCCIDRs {
		if !c.IsValid() || !c.Addr().Is4() {
			return fmt.Errorf("vpc-cidr %q is invalid: expected an IPv4 CIDR such as 172.31.0.0/16", c)
		}
	}
	if err := o.validateOwnership(); err != nil {
		return err
	}
	if o.MutatingRate < 0 {
		return fmt.Errorf("mutating-rate %g is invalid: expected calls per second > 0 (EC2 refills 5/s)", o.MutatingRate)
	}
	if o.MutatingBurst < 0 {
		return fmt.Errorf("mutating-burst %d is invalid: expected a positive number of calls (EC2 allows 50)", o.MutatingBurst)
	}
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{{"change-timeout", o.ChangeTimeout}, {"retry-timeout", o.RetryTimeout}, {"call-timeout", o.CallTimeout}} {
		if d.v < 0 {
			return fmt.Errorf("%s %s is invalid: expected a positive duration", d.flag, d.v)
		}
	}
	return nil
}

// validateOwnership checks the fields ownership is judged by.
func (o Options) validateOwnership() error {
	if o.Cluster != "" {
		if err := cloud.ValidateClusterName(o.Cluster); err != nil {
			return err
		}
	}
	if o.ClusterCIDR.IsValid() && !o.ClusterCIDR.Addr().Is4() {
		return fmt.Errorf("cluster-cidr %q is invalid: expected an IPv4 CIDR such as 10.0.0.0/8", o.ClusterCIDR)
	}
	switch {
	case o.Cluster != "" && !o.ClusterCIDR.IsValid():
		return fmt.Errorf("cluster-cidr is missing: the aws provider needs it with cluster-name %q, because EC2 routes carry no tags and ownership is judged by destination", o.Cluster)
	case o.Cluster == "" && o.ClusterCIDR.IsValid():
		return fmt.Errorf("cluster-name is missing: the aws provider needs it with cluster-cidr %s to recognise its routes", o.ClusterCIDR)
	case o.RouteTableTag && o.Cluster == "":
		return fmt.Errorf("route-table-tag needs cluster-name: it selects the tables tagged %s=<cluster-name>", TagKey)
	case o.RouteTableTag && len(o.RouteTables) > 0:
		return fmt.Errorf("route-table-tag and route-table %v exclude each other: give the tables, or let the tag select them", o.RouteTables)
	}
	return nil
}

// parseEndpoint returns the endpoint as an absolute URL for the SDK's
// BaseEndpoint.
func parseEndpoint(endpoint string) (string, error) {
	raw := endpoint
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return "", fmt.Errorf("endpoint %q is invalid: expected a URL such as https://ec2.us-east-1.amazonaws.com or http://127.0.0.1:8080", endpoint)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("endpoint %q is invalid: scheme must be http or https", endpoint)
	}
	return u.Scheme + "://" + u.Host, nil
}
