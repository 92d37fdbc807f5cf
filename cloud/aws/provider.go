package aws

import (
	"context"
	"fmt"
	"net/netip"
	"sync"

	awsv2 "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"go.uber.org/zap"
	"golang.org/x/time/rate"

	"github.com/vpcroute/vpcroute/cloud"
)

// Name is the provider's name on the command line.
const Name = "aws"

// Provider implements cloud.Provider, cloud.Replacer and cloud.HostPreparer
// for EC2 route tables.
type Provider struct {
	opts Options
	// api is the SDK client behind observedEC2, so every call reaches
	// opts.Observer.
	api  ec2API
	self cloud.Instance
	log  *zap.Logger
	// limiter is the client-side copy of EC2's mutating-call bucket.
	limiter *rate.Limiter

	// prepared remembers that PrepareHost has finished, so that the
	// daemon's periodic re-check costs nothing.
	prepareMu sync.Mutex
	prepared  bool
}

var (
	_ cloud.Provider     = (*Provider)(nil)
	_ cloud.Replacer     = (*Provider)(nil)
	_ cloud.HostPreparer = (*Provider)(nil)
)

// New resolves this host's identity and credentials and returns a provider.
// It fails before anything is changed when either is missing. Identity
// comes from the options, then IMDSv2, then, when metadata fails and the
// instance ID is given, DescribeInstances (identity.go).
func New(ctx context.Context, opts Options) (*Provider, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	md := newMetadataClient(opts.MetadataEndpoint, opts.httpClient)
	self, mdErr := resolveIdentity(ctx, md, opts)
	fallback := identityFallback(opts, mdErr)
	if mdErr != nil && !fallback {
		return nil, mdErr
	}
	cfg, err := loadConfig(ctx, self.Region, md, opts)
	if err != nil {
		return nil, err
	}
	if fallback {
		if self.Region, err = regionWithoutMetadata(self, cfg.Region, mdErr); err != nil {
			return nil, err
		}
		cfg.Region = self.Region
	}
	endpoint := ""
	if opts.Endpoint != "" {
		endpoint, _ = parseEndpoint(opts.Endpoint) // validated above
	}
	client := ec2.NewFromConfig(cfg, func(o *ec2.Options) {
		if endpoint != "" {
			o.BaseEndpoint = awsv2.String(endpoint)
		}
		// callRetry retries, so that every attempt is paced and observed.
		o.Retryer = awsv2.NopRetryer{}
		o.HTTPClient = ownBodies{next: o.HTTPClient}
	})
	p := newWithAPI(opts, client, self)
	if fallback {
		if p.self, err = p.describeSelf(ctx, self, mdErr); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// newWithAPI assembles a provider around an API implementation, putting
// the call observer in front of it.
func newWithAPI(opts Options, api ec2API, self cloud.Instance) *Provider {
	opts = opts.withDefaults()
	return &Provider{
		opts: opts, self: self, log: opts.Logger,
		api:     observedEC2{api: api, obs: opts.Observer},
		limiter: rate.NewLimiter(rate.Limit(opts.MutatingRate), opts.MutatingBurst),
	}
}

// Name implements cloud.Provider.
func (p *Provider) Name() string { return Name }

// Self implements cloud.Provider. Its Target is the primary ENI.
func (p *Provider) Self(context.Context) (cloud.Instance, error) { return p.self, nil }

// Network implements cloud.Provider: the VPC's CIDRs (every associated
// block), its subnets' CIDRs and the managed route tables.
func (p *Provider) Network(ctx context.Context) (cloud.Network, error) {
	given := cloud.Network{VPCID: p.self.VPCID, CIDRs: p.opts.VPCCIDRs, RouteTables: p.opts.RouteTables}
	return cloud.ReadNetwork(ctx, given, cloud.NetworkReads{
		CIDRs: p.vpcCIDRs, SubnetCIDRs: p.subnetCIDRs, RouteTables: p.taggedRouteTables,
	})
}

// taggedRouteTables is routeTables with, when tables are chosen by tag and
// none has it, the error saying how to tag them.
func (p *Provider) taggedRouteTables(ctx context.Context) ([]string, error) {
	tables, err := p.routeTables(ctx)
	if err == nil && len(tables) == 0 && p.opts.RouteTableTag {
		return nil, fmt.Errorf("VPC %s has no route table tagged %s=%s: tag the tables vpcroute should manage, or give --route-table",
			p.self.VPCID, TagKey, p.opts.Cluster)
	}
	return tables, err
}

// vpcFilter selects the resources of this host's VPC.
func (p *Provider) vpcFilter() types.Filter {
	return types.Filter{Name: awsv2.String("vpc-id"), Values: []string{p.self.VPCID}}
}

func (p *Provider) vpcCIDRs(ctx context.Context) ([]netip.Prefix, error) {
	out, err := callRetry(ctx, p, "DescribeVpcs", func(ctx context.Context) (*ec2.DescribeVpcsOutput, error) {
		return p.api.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{p.self.VPCID}})
	})
	if err != nil {
		return nil, fmt.Errorf("read VPC %s: %w", p.self.VPCID, err)
	}
	if len(out.Vpcs) == 0 {
		return nil, fmt.Errorf("read VPC %s: not found in region %s", p.self.VPCID, p.self.Region)
	}
	return vpcCIDRs(out.Vpcs[0])
}

// vpcCIDRs returns the primary block and every associated secondary one;
// blocks being disassociated or that failed to associate are left out.
func vpcCIDRs(v types.Vpc) ([]netip.Prefix, error) {
	blocks := []string{awsv2.ToString(v.CidrBlock)}
	for _, a := range v.CidrBlockAssociationSet {
		if a.CidrBlockState != nil && a.CidrBlockState.State != types.VpcCidrBlockStateCodeAssociated {
			continue
		}
		blocks = append(blocks, awsv2.ToString(a.CidrBlock))
	}
	var out []netip.Prefix
	seen := map[netip.Prefix]bool{}
	for _, s := range blocks {
		if s == "" {
			continue
		}
		pfx, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("read VPC %s: CIDR %q: %w", awsv2.ToString(v.VpcId), s, err)
		}
		if pfx = pfx.Masked(); !seen[pfx] {
			seen[pfx] = true
			out = append(out, pfx)
		}
	}
	return out, nil
}

// pageSize is the MaxResults of the paged Describe calls (EC2 takes
// 5-1000; 1000 keeps a large VPC to few calls).
const pageSize = 1000

func (p *Provider) subnetCIDRs(ctx context.Context) ([]netip.Prefix, error) {
	var out []netip.Prefix
	var token *string
	for {
		in := &ec2.DescribeSubnetsInput{Filters: []types.Filter{p.vpcFilter()}, MaxResults: awsv2.Int32(pageSize), NextToken: token}
		resp, err := callRetry(ctx, p, "DescribeSubnets", func(ctx context.Context) (*ec2.DescribeSubnetsOutput, error) {
			return p.api.DescribeSubnets(ctx, in)
		})
		if err != nil {
			return nil, fmt.Errorf("list subnets of %s: %w", p.self.VPCID, err)
		}
		for _, s := range resp.Subnets {
			if s.CidrBlock == nil {
				continue // IPv6-only subnet
			}
			pfx, err := netip.ParsePrefix(*s.CidrBlock)
			if err != nil {
				return nil, fmt.Errorf("list subnets of %s: %s has CIDR %q: %w", p.self.VPCID, awsv2.ToString(s.SubnetId), *s.CidrBlock, err)
			}
			out = append(out, pfx.Masked())
		}
		if token = nextToken(token, resp.NextToken); token == nil {
			return out, nil
		}
	}
}

// nextToken returns the token for the next page, or nil at the end (also
// when a page repeats its own token, which would loop forever).
func nextToken(prev, next *string) *string {
	if next == nil || *next == "" || (prev != nil && *prev == *next) {
		return nil
	}
	return next
}

// routeTables lists the managed tables: the VPC's, or with RouteTableTag
// those tagged vpcroute:cluster=<cluster>. Tables associated with a
// gateway (ingress routing) are left out: they steer traffic entering the
// VPC and take only destinations inside it.
func (p *Provider) routeTables(ctx context.Context) ([]string, error) {
	filters := []types.Filter{p.vpcFilter()}
	if p.opts.RouteTableTag {
		filters = append(filters, types.Filter{Name: awsv2.String("tag:" + TagKey), Values: []string{p.opts.Cluster}})
	}
	var out []string
	var token *string
	for {
		in := &ec2.DescribeRouteTablesInput{Filters: filters, MaxResults: awsv2.Int32(100), NextToken: token}
		resp, err := callRetry(ctx, p, "DescribeRouteTables", func(ctx context.Context) (*ec2.DescribeRouteTablesOutput, error) {
			return p.api.DescribeRouteTables(ctx, in)
		})
		if err != nil {
			return nil, fmt.Errorf("list route tables of %s: %w", p.self.VPCID, err)
		}
		for _, t := range resp.RouteTables {
			if !gatewayTable(t) {
				out = append(out, awsv2.ToString(t.RouteTableId))
			}
		}
		if token = nextToken(token, resp.NextToken); token == nil {
			return out, nil
		}
	}
}

// gatewayTable reports whether t is associated with an internet or
// virtual private gateway (an edge association).
func gatewayTable(t types.RouteTable) bool {
	for _, a := range t.Associations {
		if awsv2.ToString(a.GatewayId) != "" {
			return true
		}
	}
	return false
}
