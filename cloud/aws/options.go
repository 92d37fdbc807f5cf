package aws

import (
	"fmt"
	"net/http"
	"regexp"
	"time"

	"github.com/vpcroute/vpcroute/cloud"
)

// Options configures the EC2 provider: the settings every provider shares,
// and EC2's own. Zero values take the production defaults; each identity
// setting overrides what the instance metadata service (IMDSv2) says. An
// empty Endpoint is the SDK's regional endpoint (which AWS_ENDPOINT_URL_EC2
// also sets), an empty MetadataEndpoint the SDK's.
//
// Cluster and ClusterCIDR decide ownership: EC2 routes carry no name or
// tag, so a route is the cluster's when it was made by CreateRoute, its
// destination lies inside ClusterCIDR and its target ENI is tagged
// vpcroute:cluster=<Cluster> (see ownership.go). Give both or neither;
// with neither, nothing is owned and nothing can be written.
type Options struct {
	cloud.Settings
	// NetworkInterfaceID (the primary ENI, which this host's routes
	// target) overrides metadata.
	NetworkInterfaceID string
	// RouteTableTag, without RouteTables, limits management to the VPC's
	// tables tagged vpcroute:cluster=<Cluster>.
	RouteTableTag bool
	// MutatingRate and MutatingBurst size the client-side token bucket
	// every mutating call waits on (EC2's own bucket: 5/s, 50).
	MutatingRate  float64
	MutatingBurst int
	// ChangeTimeout bounds the wait for a created route to be listed.
	ChangeTimeout time.Duration
	// CallTimeout bounds one HTTP call.
	CallTimeout time.Duration

	// httpClient, set only by tests, replaces the HTTP client of every
	// request (EC2, IMDS, credentials) with one that dials loopback only.
	httpClient *http.Client
}

// Defaults for Options.
const (
	DefaultMutatingRate  = 5.0
	DefaultMutatingBurst = 50
	DefaultChangeTimeout = 1 * time.Minute
	DefaultCallTimeout   = 20 * time.Second
)

// withDefaults returns o with zero values replaced by defaults.
func (o Options) withDefaults() Options {
	o.Settings = o.Settings.WithDefaults()
	if o.MutatingRate <= 0 {
		o.MutatingRate = DefaultMutatingRate
	}
	if o.MutatingBurst <= 0 {
		o.MutatingBurst = DefaultMutatingBurst
	}
	if o.ChangeTimeout <= 0 {
		o.ChangeTimeout = DefaultChangeTimeout
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = DefaultCallTimeout
	}
	return o
}

// regionPattern matches AWS region names: us-east-1, eu-central-2,
// us-gov-west-1, cn-north-1, ap-southeast-4.
var regionPattern = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

// EC2's resource IDs, for Validate.
var (
	idFormats = cloud.IDFormats{
		Instance:   cloud.IDFormat{Flag: "instance-id", Prefix: "i-", What: "an EC2 instance ID (i-...)"},
		VPC:        cloud.IDFormat{Flag: "vpc-id", Prefix: "vpc-", What: "a VPC ID (vpc-...)"},
		RouteTable: cloud.IDFormat{Flag: "route-table", Prefix: "rtb-", What: "an EC2 route table ID (rtb-...)"},
	}
	eniFormat = cloud.IDFormat{Flag: "network-interface-id", Prefix: "eni-", What: "a network interface ID (eni-...)"}
)

// Validate returns a one-line error for the first bad setting, naming the
// command-line flag that sets it: the shared ones
// (cloud.Settings.Validate), then EC2's.
func (o Options) Validate() error {
	if err := o.Settings.Validate(); err != nil {
		return err
	}
	if o.Region != "" && !regionPattern.MatchString(o.Region) {
		return fmt.Errorf("region %q is invalid: expected an AWS region such as us-east-1", o.Region)
	}
	if err := o.ValidateIDs(idFormats); err != nil {
		return err
	}
	if o.NetworkInterfaceID != "" {
		if err := eniFormat.Check(o.NetworkInterfaceID); err != nil {
			return err
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
	}{{"change-timeout", o.ChangeTimeout}, {"call-timeout", o.CallTimeout}} {
		if d.v < 0 {
			return fmt.Errorf("%s %s is invalid: expected a positive duration", d.flag, d.v)
		}
	}
	return nil
}

// validateOwnership checks that the settings ownership is judged by come
// together (their formats are cloud.Settings.Validate's).
func (o Options) validateOwnership() error {
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
	u, err := cloud.ParseEndpoint(endpoint)
	if err != nil {
		return "", err
	}
	return u.String(), nil
}
