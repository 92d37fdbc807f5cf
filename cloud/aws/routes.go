package aws

import (
	"context"
	"fmt"

	awsv2 "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/vpcroute/vpcroute/cloud"
)

// maxFilterValues is the most IDs vpcroute looks up in one call: EC2 takes
// at most 200 filter values per call, counted across its filters
// (FilterLimitExceeded beyond), and a lookup by ID sends only the ID
// filter. MaxResults cannot raise it: EC2 refuses MaxResults beside an ID
// list (InstanceIds), and an ID list fails whole on one unknown ID, which
// a forged or long-gone host record would be.
const maxFilterValues = 200

// Routes implements cloud.Provider. Routes without an IPv4 destination
// (IPv6, prefix lists of gateway endpoints) are skipped, never an error.
// Ownership needs the tags of the ENIs that candidate routes point at,
// read with one DescribeNetworkInterfaces (clusterENIs).
func (p *Provider) Routes(ctx context.Context, tableID string) ([]cloud.Route, error) {
	table, err := p.describeTable(ctx, tableID)
	if err != nil {
		return nil, err
	}
	var enis []string
	seen := map[string]bool{}
	for _, r := range table.Routes {
		if eni, ok := tagCheck(p.opts.Cluster, p.opts.ClusterCIDR, r); ok && !seen[eni] {
			seen[eni] = true
			enis = append(enis, eni)
		}
	}
	tagged, err := p.clusterENIs(ctx, enis)
	if err != nil {
		return nil, fmt.Errorf("list routes of %s: %w", tableID, err)
	}
	var out []cloud.Route
	for _, r := range table.Routes {
		cr, ok := toRoute(tableID, r)
		if !ok {
			continue
		}
		cr.Cluster = owner(p.opts.Cluster, p.opts.ClusterCIDR, r, func(eni string) bool { return tagged[eni] })
		out = append(out, cr)
	}
	return out, nil
}

// describeTable reads one route table with all its routes (EC2 returns a
// table's routes whole, without paging).
func (p *Provider) describeTable(ctx context.Context, tableID string) (types.RouteTable, error) {
	in := &ec2.DescribeRouteTablesInput{RouteTableIds: []string{tableID}}
	resp, err := callRetry(ctx, p, "DescribeRouteTables", func(ctx context.Context) (*ec2.DescribeRouteTablesOutput, error) {
		return p.api.DescribeRouteTables(ctx, in)
	})
	if err != nil {
		return types.RouteTable{}, fmt.Errorf("list routes of %s: %w", tableID, err)
	}
	for _, t := range resp.RouteTables {
		if awsv2.ToString(t.RouteTableId) == tableID {
			return t, nil
		}
	}
	return types.RouteTable{}, fmt.Errorf("list routes of %s: the route table was not found", tableID)
}

// clusterENIs returns which of enis are tagged vpcroute:cluster=<cluster>.
// Up to 200 ENIs are looked up by ID in one call. Beyond that, one listing
// of the VPC's interfaces tagged for the cluster costs a read per 1000
// instead of per 200: reads share EC2's Describe bucket (100, refilling
// 20/s) with every other reader in the account.
func (p *Provider) clusterENIs(ctx context.Context, enis []string) (map[string]bool, error) {
	tagged := map[string]bool{}
	keep := func(ni types.NetworkInterface) {
		if tagValue(ni.TagSet, TagKey) == p.opts.Cluster {
			tagged[awsv2.ToString(ni.NetworkInterfaceId)] = true
		}
	}
	if len(enis) <= maxFilterValues {
		return tagged, p.eachInterface(ctx, enis, keep)
	}
	filters := []types.Filter{p.vpcFilter(), {Name: awsv2.String("tag:" + TagKey), Values: []string{p.opts.Cluster}}}
	if err := p.describeInterfaces(ctx, filters, keep); err != nil {
		return nil, fmt.Errorf("list the network interfaces of %s tagged %s=%s: %w", p.self.VPCID, TagKey, p.opts.Cluster, err)
	}
	return tagged, nil
}

// eachInterface describes the ENIs with these IDs, up to 200 per call,
// and calls fn for each one EC2 returns. With a network-interface-id
// filter EC2 leaves unknown IDs out instead of failing the whole call, as
// NetworkInterfaceIds would with InvalidNetworkInterfaceID.NotFound.
func (p *Provider) eachInterface(ctx context.Context, enis []string, fn func(types.NetworkInterface)) error {
	for start := 0; start < len(enis); start += maxFilterValues {
		chunk := enis[start:min(start+maxFilterValues, len(enis))]
		asked := map[string]bool{}
		for _, id := range chunk {
			asked[id] = true
		}
		filters := []types.Filter{{Name: awsv2.String("network-interface-id"), Values: chunk}}
		err := p.describeInterfaces(ctx, filters, func(ni types.NetworkInterface) {
			// Only IDs that were asked for count: an answer that ignored
			// the filter must not vouch for anything else.
			if asked[awsv2.ToString(ni.NetworkInterfaceId)] {
				fn(ni)
			}
		})
		if err != nil {
			return fmt.Errorf("look up %d network interfaces (%s...): %w", len(chunk), chunk[0], err)
		}
	}
	return nil
}

// describeInterfaces calls fn for every ENI matching filters, page by page.
func (p *Provider) describeInterfaces(ctx context.Context, filters []types.Filter, fn func(types.NetworkInterface)) error {
	var token *string
	for {
		in := &ec2.DescribeNetworkInterfacesInput{Filters: filters, MaxResults: awsv2.Int32(pageSize), NextToken: token}
		resp, err := callRetry(ctx, p, "DescribeNetworkInterfaces", func(ctx context.Context) (*ec2.DescribeNetworkInterfacesOutput, error) {
			return p.api.DescribeNetworkInterfaces(ctx, in)
		})
		if err != nil {
			return err
		}
		for _, ni := range resp.NetworkInterfaces {
			fn(ni)
		}
		if token = nextToken(token, resp.NextToken); token == nil {
			return nil
		}
	}
}

// routesUnmarked lists a table's routes without reading ENI tags: Cluster
// is left empty. For checks that need destinations and targets only.
func (p *Provider) routesUnmarked(ctx context.Context, tableID string) ([]cloud.Route, error) {
	table, err := p.describeTable(ctx, tableID)
	if err != nil {
		return nil, err
	}
	out := make([]cloud.Route, 0, len(table.Routes))
	for _, r := range table.Routes {
		if cr, ok := toRoute(tableID, r); ok {
			out = append(out, cr)
		}
	}
	return out, nil
}
