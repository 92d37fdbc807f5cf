package aliyun

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/vpcroute/vpcroute/cloud"
)

// Options configures the Alibaba Cloud provider. Zero values take the
// production defaults; each identity field overrides what the metadata
// service says.
type Options struct {
	// Endpoint is one URL for the VPC and ECS APIs alike (the simulator,
	// or a private endpoint). Empty: the SDK's regional endpoints over
	// HTTPS. A URL without a scheme is taken as HTTPS; plain HTTP only when
	// given as http://.
	Endpoint string
	// MetadataEndpoint is the base URL of the instance metadata service.
	MetadataEndpoint string
	// Region, InstanceID, VPCID and PrivateIP override metadata.
	Region     string
	InstanceID string
	VPCID      string
	PrivateIP  netip.Addr
	// VPCCIDRs overrides the VPC's ranges read with DescribeVpcs.
	VPCCIDRs []netip.Prefix
	// RouteTables limits management to these tables; empty means every
	// route table of the VPC.
	RouteTables []string
	// RAMRole names the instance's RAM role; empty reads it from metadata.
	RAMRole string
	// Cluster is the ownership mark written into every entry the provider
	// creates (RouteEntryName, Description) and required of every entry it
	// deletes. Empty: the provider only reads.
	Cluster string
	// ChangeTimeout bounds the wait for one change to leave Pending.
	ChangeTimeout time.Duration
	// RetryTimeout bounds the retries of one call (conflicts, throttling).
	RetryTimeout time.Duration
	// CallTimeout bounds one HTTP call.
	CallTimeout time.Duration
	// Logger receives one line per write call and per retry.
	Logger *zap.Logger
	// Observer is told about every VPC and ECS API call, each retry
	// included (metadata and credential requests are not API calls); nil
	// means cloud.NopObserver.
	Observer cloud.CallObserver
}

// Defaults for Options.
const (
	DefaultChangeTimeout = 2 * time.Minute
	DefaultRetryTimeout  = 3 * time.Minute
	DefaultCallTimeout   = 20 * time.Second
)

// withDefaults returns o with zero values replaced by defaults.
func (o Options) withDefaults() Options {
	if o.MetadataEndpoint == "" {
		o.MetadataEndpoint = DefaultMetadataEndpoint
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

// Validate returns a one-line error for the first bad field.
func (o Options) Validate() error {
	if o.Endpoint != "" {
		if _, _, err := parseEndpoint(o.Endpoint); err != nil {
			return err
		}
	}
	if o.MetadataEndpoint != "" {
		u, err := url.Parse(o.MetadataEndpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("metadata-endpoint %q is invalid: expected an http:// or https:// URL", o.MetadataEndpoint)
		}
	}
	for _, id := range o.RouteTables {
		if !strings.HasPrefix(id, "vtb-") {
			return fmt.Errorf("route-table %q is invalid: expected an Alibaba route table ID (vtb-...)", id)
		}
	}
	if o.InstanceID != "" && !strings.HasPrefix(o.InstanceID, "i-") {
		return fmt.Errorf("instance-id %q is invalid: expected an ECS instance ID (i-...)", o.InstanceID)
	}
	if o.VPCID != "" && !strings.HasPrefix(o.VPCID, "vpc-") {
		return fmt.Errorf("vpc-id %q is invalid: expected a VPC ID (vpc-...)", o.VPCID)
	}
	if o.Cluster != "" {
		return cloud.ValidateClusterName(o.Cluster)
	}
	return nil
}

// parseEndpoint splits an endpoint URL into the SDK's scheme and domain.
func parseEndpoint(endpoint string) (scheme, domain string, err error) {
	raw := endpoint
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return "", "", fmt.Errorf("endpoint %q is invalid: expected a URL such as https://vpc.cn-hangzhou.aliyuncs.com or http://127.0.0.1:8080", endpoint)
	}
	switch u.Scheme {
	case "http":
		return "HTTP", u.Host, nil
	case "https":
		return "HTTPS", u.Host, nil
	}
	return "", "", fmt.Errorf("endpoint %q is invalid: scheme must be http or https", endpoint)
}
