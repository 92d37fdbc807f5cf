package aliyun

import (
	"time"

	"github.com/vpcroute/vpcroute/cloud"
)

// Options configures the Alibaba Cloud provider: the settings every
// provider shares, and the Alibaba's own. Zero values take the production
// defaults; each identity setting overrides what the metadata service
// says. Cluster is written into every entry the provider creates
// (RouteEntryName, Description) and required of every entry it deletes.
type Options struct {
	cloud.Settings
	// RAMRole names the instance's RAM role; empty reads it from metadata.
	RAMRole string
	// ChangeTimeout bounds the wait for one change to leave Pending.
	ChangeTimeout time.Duration
	// CallTimeout bounds one HTTP call.
	CallTimeout time.Duration
}

// Defaults for Options.
const (
	DefaultChangeTimeout = 2 * time.Minute
	DefaultCallTimeout   = 20 * time.Second
)

// idFormats are Alibaba's resource IDs, for Validate.
var idFormats = cloud.IDFormats{
	Instance:   cloud.IDFormat{Flag: "instance-id", Prefix: "i-", What: "an ECS instance ID (i-...)"},
	VPC:        cloud.IDFormat{Flag: "vpc-id", Prefix: "vpc-", What: "a VPC ID (vpc-...)"},
	RouteTable: cloud.IDFormat{Flag: "route-table", Prefix: "vtb-", What: "an Alibaba route table ID (vtb-...)"},
}

// withDefaults returns o with zero values replaced by defaults.
func (o Options) withDefaults() Options {
	o.Settings = o.Settings.WithDefaults()
	if o.MetadataEndpoint == "" {
		o.MetadataEndpoint = DefaultMetadataEndpoint
	}
	if o.ChangeTimeout <= 0 {
		o.ChangeTimeout = DefaultChangeTimeout
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = DefaultCallTimeout
	}
	return o
}

// Validate returns a one-line error for the first bad setting: the shared
// ones (cloud.Settings.Validate), then Alibaba's ID formats.
func (o Options) Validate() error {
	if err := o.Settings.Validate(); err != nil {
		return err
	}
	return o.ValidateIDs(idFormats)
}

// parseEndpoint splits an endpoint URL into the SDK's scheme and domain.
func parseEndpoint(endpoint string) (scheme, domain string, err error) {
	u, err := cloud.ParseEndpoint(endpoint)
	if err != nil {
		return "", "", err
	}
	if u.Scheme == "http" {
		return "HTTP", u.Host, nil
	}
	return "HTTPS", u.Host, nil
}
