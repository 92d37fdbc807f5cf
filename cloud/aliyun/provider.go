// Package aliyun is the Alibaba Cloud provider: identity from the ECS
// metadata service, routes in VPC route tables and instance existence from
// ECS, through github.com/aliyun/alibaba-cloud-sdk-go.
package aliyun

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/vpc"
	"go.uber.org/zap"

	"github.com/vpcroute/vpcroute/cloud"
)

// Name is the provider's name on the command line.
const Name = "aliyun"

// Provider implements cloud.Provider for Alibaba Cloud VPC route tables.
type Provider struct {
	opts Options
	// api and ecs are the SDK clients behind observedVPC/observedECS, so
	// that every call runs under its context and reaches opts.Observer.
	api  observedVPC
	ecs  observedECS
	self cloud.Instance
	log  *zap.Logger

	// writeMu serializes route changes in this process: Alibaba accepts one
	// change per VPC at a time, so sending a second one only earns a
	// conflict error.
	writeMu sync.Mutex
	// settle learns from every listing how long changes take to apply
	// and which are in flight (settle.go).
	settle *settleClock
}

var _ cloud.Provider = (*Provider)(nil)

// New resolves this host's identity and credentials and returns a provider.
// It fails before anything is changed when either is missing.
func New(ctx context.Context, opts Options) (*Provider, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	md := newMetadataClient(opts.MetadataEndpoint)
	self, err := resolveIdentity(ctx, md, opts)
	if err != nil {
		return nil, err
	}
	creds, err := resolveCredentials(ctx, md, opts.RAMRole)
	if err != nil {
		return nil, err
	}
	scheme, domain := "HTTPS", ""
	if opts.Endpoint != "" {
		scheme, domain, _ = parseEndpoint(opts.Endpoint) // validated above
	}
	// Each client gets its own config: the SDK keeps per-client state
	// (timeouts) hanging off it. Both share one transport, which sends each
	// call under its context (sdkctx.go); the SDK leaves a transport that
	// is not an *http.Transport as it is.
	calls := newCallContexts()
	transport := newCtxTransport(calls)
	config := func() *sdk.Config {
		c := sdk.NewConfig().WithScheme(scheme).WithTimeout(opts.CallTimeout).WithAutoRetry(false)
		c.Transport = transport
		return c
	}
	vpcClient, err := vpc.NewClientWithOptions(self.Region, config(), creds)
	if err != nil {
		return nil, fmt.Errorf("create VPC client for region %s: %w", self.Region, err)
	}
	ecsClient, err := ecs.NewClientWithOptions(self.Region, config(), creds)
	if err != nil {
		return nil, fmt.Errorf("create ECS client for region %s: %w", self.Region, err)
	}
	if domain != "" {
		// One endpoint serves both APIs (the simulator, a private gateway).
		vpcClient.Domain = domain
		ecsClient.Domain = domain
	}
	return newWithAPI(opts, vpcClient, ecsClient, calls, self), nil
}

// newWithAPI assembles a provider around API implementations, putting the
// call observer and the calls' contexts (calls, which the clients'
// transport reads) in front of them.
func newWithAPI(opts Options, api vpcAPI, ecsClient ecsAPI, calls *callContexts, self cloud.Instance) *Provider {
	opts = opts.withDefaults()
	s := seam{obs: opts.Observer, calls: calls}
	return &Provider{
		opts: opts, self: self, log: opts.Logger, settle: newSettleClock(),
		api: observedVPC{api: api, seam: s},
		ecs: observedECS{api: ecsClient, seam: s},
	}
}

// resolveIdentity reads what the options do not give from metadata.
func resolveIdentity(ctx context.Context, md *metadataClient, opts Options) (cloud.Instance, error) {
	self := cloud.Instance{ID: opts.InstanceID, Region: opts.Region, VPCID: opts.VPCID, PrivateIP: opts.PrivateIP}
	if self.ID != "" && self.Region != "" && self.VPCID != "" && self.PrivateIP.IsValid() {
		self.Target = cloud.Target{Kind: cloud.TargetInstance, ID: self.ID}
		return self, nil
	}
	token := md.token(ctx)
	fields := []struct {
		path, flag string
		dst        *string
	}{{"instance-id", "instance-id", &self.ID}, {"region-id", "region", &self.Region}, {"vpc-id", "vpc-id", &self.VPCID}}
	for _, f := range fields {
		if *f.dst != "" {
			continue
		}
		v, err := md.get(ctx, token, f.path)
		if err != nil {
			return self, fmt.Errorf("identity: %w (or give --%s)", err, f.flag)
		}
		*f.dst = v
	}
	if !self.PrivateIP.IsValid() {
		v, err := md.get(ctx, token, "private-ipv4")
		if err != nil {
			return self, fmt.Errorf("identity: %w (or give --private-ip)", err)
		}
		if self.PrivateIP, err = netip.ParseAddr(v); err != nil {
			return self, fmt.Errorf("identity: metadata private-ipv4 %q is not an IP address", v)
		}
	}
	self.Target = cloud.Target{Kind: cloud.TargetInstance, ID: self.ID}
	return self, nil
}

// Name implements cloud.Provider.
func (p *Provider) Name() string { return Name }

// Self implements cloud.Provider.
func (p *Provider) Self(context.Context) (cloud.Instance, error) { return p.self, nil }

// Network implements cloud.Provider: the VPC's CIDRs, its vswitch CIDRs and
// the managed route tables.
func (p *Provider) Network(ctx context.Context) (cloud.Network, error) {
	given := cloud.Network{VPCID: p.self.VPCID, CIDRs: p.opts.VPCCIDRs, RouteTables: p.opts.RouteTables}
	return cloud.ReadNetwork(ctx, given, cloud.NetworkReads{
		CIDRs: p.vpcCIDRs, SubnetCIDRs: p.vswitchCIDRs, RouteTables: p.routeTables,
	})
}

func (p *Provider) vpcCIDRs(ctx context.Context) ([]netip.Prefix, error) {
	req := vpc.CreateDescribeVpcsRequest()
	req.VpcId = p.self.VPCID
	resp, err := callRetry(ctx, p, "DescribeVpcs", func(ctx context.Context) (*vpc.DescribeVpcsResponse, error) {
		return p.api.DescribeVpcs(ctx, req)
	})
	if err != nil {
		return nil, fmt.Errorf("read VPC %s: %w", p.self.VPCID, err)
	}
	if len(resp.Vpcs.Vpc) == 0 {
		return nil, fmt.Errorf("read VPC %s: not found in region %s", p.self.VPCID, p.self.Region)
	}
	v := resp.Vpcs.Vpc[0]
	var out []netip.Prefix
	for _, s := range append([]string{v.CidrBlock}, v.SecondaryCidrBlocks.SecondaryCidrBlock...) {
		if s == "" {
			continue
		}
		pfx, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("read VPC %s: CIDR %q: %w", p.self.VPCID, s, err)
		}
		out = append(out, pfx.Masked())
	}
	return out, nil
}

// pageSize is the largest page the Describe* list calls accept.
const pageSize = 50

func (p *Provider) vswitchCIDRs(ctx context.Context) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for page := 1; ; page++ {
		req := vpc.CreateDescribeVSwitchesRequest()
		req.VpcId = p.self.VPCID
		req.PageNumber = requests.NewInteger(page)
		req.PageSize = requests.NewInteger(pageSize)
		resp, err := callRetry(ctx, p, "DescribeVSwitches", func(ctx context.Context) (*vpc.DescribeVSwitchesResponse, error) {
			return p.api.DescribeVSwitches(ctx, req)
		})
		if err != nil {
			return nil, fmt.Errorf("list vswitches of %s: %w", p.self.VPCID, err)
		}
		for _, vs := range resp.VSwitches.VSwitch {
			pfx, err := netip.ParsePrefix(vs.CidrBlock)
			if err != nil {
				return nil, fmt.Errorf("list vswitches of %s: %s has CIDR %q: %w", p.self.VPCID, vs.VSwitchId, vs.CidrBlock, err)
			}
			out = append(out, pfx.Masked())
		}
		if len(resp.VSwitches.VSwitch) < pageSize || page*pageSize >= resp.TotalCount {
			return out, nil
		}
	}
}

func (p *Provider) routeTables(ctx context.Context) ([]string, error) {
	var out []string
	for page := 1; ; page++ {
		req := vpc.CreateDescribeRouteTableListRequest()
		req.VpcId = p.self.VPCID
		req.PageNumber = requests.NewInteger(page)
		req.PageSize = requests.NewInteger(pageSize)
		resp, err := callRetry(ctx, p, "DescribeRouteTableList", func(ctx context.Context) (*vpc.DescribeRouteTableListResponse, error) {
			return p.api.DescribeRouteTableList(ctx, req)
		})
		if err != nil {
			return nil, fmt.Errorf("list route tables of %s: %w", p.self.VPCID, err)
		}
		for _, t := range resp.RouterTableList.RouterTableListType {
			// Gateway route tables steer traffic entering the VPC from an
			// IPv4 gateway; container routes belong in the vswitch tables.
			if strings.EqualFold(t.RouteTableType, "Gateway") {
				continue
			}
			out = append(out, t.RouteTableId)
		}
		if len(resp.RouterTableList.RouterTableListType) < pageSize || page*pageSize >= resp.TotalCount {
			return out, nil
		}
	}
}

// Routes implements cloud.Provider, following NextToken pages.
func (p *Provider) Routes(ctx context.Context, tableID string) ([]cloud.Route, error) {
	var out []cloud.Route
	token := ""
	sent := time.Now()
	for {
		req := vpc.CreateDescribeRouteEntryListRequest()
		req.RouteTableId = tableID
		req.MaxResult = requests.NewInteger(100)
		req.NextToken = token
		resp, err := callRetry(ctx, p, "DescribeRouteEntryList", func(ctx context.Context) (*vpc.DescribeRouteEntryListResponse, error) {
			return p.api.DescribeRouteEntryList(ctx, req)
		})
		if err != nil {
			return nil, fmt.Errorf("list routes of %s: %w", tableID, err)
		}
		for _, e := range resp.RouteEntrys.RouteEntry {
			r, ok := toRoute(tableID, e)
			if !ok {
				// IPv6 and malformed entries are never vpcroute's; skip
				// them instead of failing the whole table.
				continue
			}
			out = append(out, r)
		}
		if resp.NextToken == "" || resp.NextToken == token {
			p.settle.listed(tableID, out, sent, time.Now())
			return out, nil
		}
		token = resp.NextToken
	}
}

// toRoute converts an SDK entry; ok is false for entries vpcroute cannot
// reason about (IPv6, unparsable destination).
func toRoute(tableID string, e vpc.RouteEntry) (cloud.Route, bool) {
	dst, err := netip.ParsePrefix(e.DestinationCidrBlock)
	if err != nil || !dst.Addr().Is4() {
		return cloud.Route{}, false
	}
	target := cloud.Target{Kind: e.NextHopType, ID: e.InstanceId}
	if hops := e.NextHops.NextHop; len(hops) == 1 {
		target = cloud.Target{Kind: hops[0].NextHopType, ID: hops[0].NextHopId}
	} else if len(hops) > 1 {
		// ECMP entries are never vpcroute's; keep the first hop for display.
		target = cloud.Target{Kind: "ECMP", ID: hops[0].NextHopId}
	}
	return cloud.Route{
		TableID: tableID, ID: e.RouteEntryId, Destination: dst.Masked(), Target: target,
		Status: e.Status, Name: e.RouteEntryName, Description: e.Description,
		Cluster: ownerOf(e.RouteEntryName, e.Description),
		System:  strings.EqualFold(e.Type, "System"),
	}, true
}
