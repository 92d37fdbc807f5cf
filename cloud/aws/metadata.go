package aws

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"path"
	"strings"

	awsv2 "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/internal/textline"
)

// newMetadataClient returns the IMDS client used for identity and for the
// instance role's credentials. It speaks IMDSv2 only: without a session
// token nothing is read, so a request forged through a proxy on the host
// (the SSRF that IMDSv1 allows) cannot make vpcroute act on its answer.
//
// endpoint "" keeps the SDK's default, which AWS_EC2_METADATA_SERVICE_ENDPOINT
// may change and AWS_EC2_METADATA_DISABLED=true turns off.
func newMetadataClient(endpoint string, hc *http.Client) *imds.Client {
	o := imds.Options{Endpoint: endpoint, EnableFallback: awsv2.FalseTernary}
	if hc != nil {
		o.HTTPClient = hc
	}
	if base := basePath(endpoint); base != "" {
		o.APIOptions = append(o.APIOptions, keepBasePath(base))
	}
	return imds.New(o)
}

// basePath returns the path of an endpoint URL without its trailing "/".
func basePath(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return ""
	}
	return strings.TrimRight(u.Path, "/")
}

// keepBasePath puts the endpoint's path in front of each request's path.
// The SDK's IMDS client replaces the whole path with /latest/..., which
// would make a metadata endpoint behind a path (the simulator's
// /sim/v1/instances/<id>) unusable.
func keepBasePath(base string) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Serialize.Insert(middleware.SerializeMiddlewareFunc("vpcrouteKeepBasePath",
			func(ctx context.Context, in middleware.SerializeInput, next middleware.SerializeHandler) (middleware.SerializeOutput, middleware.Metadata, error) {
				if req, ok := in.Request.(*smithyhttp.Request); ok {
					req.URL.Path = path.Join(base, req.URL.Path)
					req.URL.RawPath = ""
				}
				return next.HandleSerialize(ctx, in)
			}), "OperationSerializer", middleware.After)
	}
}

// resolveIdentity reads what the options do not give from IMDSv2: the
// instance, its region, its private address, and through the primary
// interface's MAC its VPC and ENI. Routes target that ENI: a route to an
// instance ID fails on an instance with several interfaces. On error the
// identity holds what was known so far (see identityFallback).
func resolveIdentity(ctx context.Context, md metadataAPI, opts Options) (cloud.Instance, error) {
	self := cloud.Instance{ID: opts.InstanceID, Region: opts.Region, VPCID: opts.VPCID, PrivateIP: opts.PrivateIP}
	eni := opts.NetworkInterfaceID
	get := func(p, flag string) (string, error) {
		v, err := readMetadata(ctx, md, p)
		if err != nil {
			return "", fmt.Errorf("identity: %w (or give --%s)", err, flag)
		}
		return v, nil
	}
	fields := []struct {
		path, flag string
		dst        *string
	}{{"instance-id", "instance-id", &self.ID}, {"placement/region", "region", &self.Region}}
	for _, f := range fields {
		if *f.dst != "" {
			continue
		}
		v, err := get(f.path, f.flag)
		if err != nil {
			return self, err
		}
		*f.dst = v
	}
	if !self.PrivateIP.IsValid() {
		v, err := get("local-ipv4", "private-ip")
		if err != nil {
			return self, err
		}
		if self.PrivateIP, err = netip.ParseAddr(v); err != nil || !self.PrivateIP.Is4() {
			return self, fmt.Errorf("identity: metadata local-ipv4 %q is not an IPv4 address", v)
		}
	}
	if self.VPCID == "" || eni == "" {
		mac, err := get("mac", "vpc-id and --network-interface-id")
		if err != nil {
			return self, err
		}
		iface := "network/interfaces/macs/" + mac + "/"
		if self.VPCID == "" {
			if self.VPCID, err = get(iface+"vpc-id", "vpc-id"); err != nil {
				return self, err
			}
		}
		if eni == "" {
			if eni, err = get(iface+"interface-id", "network-interface-id"); err != nil {
				return self, err
			}
		}
	}
	// What metadata said must be as well-formed as what a flag says.
	return completeIdentity(self, eni, "metadata")
}

// readMetadata reads one path below /latest/meta-data/.
func readMetadata(ctx context.Context, md metadataAPI, p string) (string, error) {
	out, err := md.GetMetadata(ctx, &imds.GetMetadataInput{Path: p})
	if err != nil {
		return "", fmt.Errorf("metadata %s: %s", p, cloud.Redact(textline.Join(innermost(err).Error(), " ")))
	}
	defer out.Content.Close()
	b, err := io.ReadAll(io.LimitReader(out.Content, 64<<10))
	if err != nil {
		return "", fmt.Errorf("metadata %s: read: %w", p, cloud.RedactError(err))
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", fmt.Errorf("metadata %s: empty answer", p)
	}
	return v, nil
}
