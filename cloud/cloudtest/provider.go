package cloudtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/vpcroute/vpcroute/cloud"
)

// Name is the provider's name on the command line.
const Name = "fake"

// Limit is the fake's per-table route limit, for doctor's routes.quota.
var Limit = cloud.RouteLimit{Default: 10, What: "fake routes per table", Fix: "raise the fake's limit and pass --route-quota"}

// AccessFix is the fake's hint for doctor's cloud.api check.
const AccessFix = "check --instance-id against the fake cloud's instances"

// Register adds the fake provider, whose hosts live in c, to r.
func Register(r *cloud.Registry, c *Cloud) {
	r.Register(cloud.Spec{Name: Name, Limit: Limit, AccessFix: AccessFix, Flags: func(fs cloud.FlagSet) cloud.Constructor {
		var zone string
		fs.StringVar(&zone, "fake-zone", "zone-a", "fake: the zone of this host (zone-...)")
		return func(_ context.Context, s cloud.Settings) (cloud.Provider, error) {
			if !strings.HasPrefix(zone, "zone-") {
				return nil, cloud.InvalidSettings(fmt.Errorf("fake-zone %q is invalid: expected a zone such as zone-a", zone))
			}
			if s.InstanceID == "" {
				return nil, cloud.InvalidSettings(errors.New("instance-id is missing: the fake cloud has no metadata service"))
			}
			c.mu.Lock()
			defer c.mu.Unlock()
			ip, ok := c.instances[s.InstanceID]
			if !ok {
				return nil, fmt.Errorf("identify this host: instance %s is not in the fake cloud", s.InstanceID)
			}
			self := cloud.Instance{ID: s.InstanceID, Region: zone, VPCID: c.network.VPCID, PrivateIP: ip,
				Target: cloud.Target{Kind: cloud.TargetInstance, ID: s.InstanceID}}
			return &Provider{c: c, s: s, self: self}, nil
		}
	}})
}

// Provider is one host's view of a Cloud. It implements cloud.Provider,
// cloud.Replacer, cloud.HostPreparer and cloud.SourceDestChecker, and
// writes only for the cluster of its settings.
type Provider struct {
	c    *Cloud
	s    cloud.Settings
	self cloud.Instance
}

var (
	_ cloud.Provider          = (*Provider)(nil)
	_ cloud.Replacer          = (*Provider)(nil)
	_ cloud.HostPreparer      = (*Provider)(nil)
	_ cloud.SourceDestChecker = (*Provider)(nil)
)

// Name implements cloud.Provider.
func (p *Provider) Name() string { return Name }

// Self implements cloud.Provider.
func (p *Provider) Self(context.Context) (cloud.Instance, error) { return p.self, nil }

// Network implements cloud.Provider: the VPC, its tables limited to
// Settings.RouteTables when given.
func (p *Provider) Network(context.Context) (cloud.Network, error) {
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	n := p.c.network
	n.CIDRs, n.SubnetCIDRs, n.RouteTables = slices.Clone(n.CIDRs), slices.Clone(n.SubnetCIDRs), slices.Clone(n.RouteTables)
	if len(p.s.VPCCIDRs) > 0 {
		n.CIDRs = slices.Clone(p.s.VPCCIDRs)
	}
	if len(p.s.RouteTables) > 0 {
		n.RouteTables = slices.Clone(p.s.RouteTables)
	}
	return n, nil
}

// Routes implements cloud.Provider.
func (p *Provider) Routes(_ context.Context, table string) ([]cloud.Route, error) {
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	rs, ok := p.c.tables[table]
	if !ok {
		return nil, fmt.Errorf("list %s: no such route table", table)
	}
	return slices.Clone(rs), nil
}

// CreateRoutes implements cloud.Provider: each entry is marked with the
// provider's cluster; a destination held by the same target is success,
// held by anything else an error.
func (p *Provider) CreateRoutes(ctx context.Context, table string, routes []cloud.Route) error {
	return p.write(ctx, "CreateRoutes", table, routes, func(i int, r cloud.Route) error {
		if i >= 0 {
			if e := p.c.tables[table][i]; e.Target != r.Target {
				return fmt.Errorf("create %s in %s: destination is held by %s", r.Destination, table, e.Target)
			}
			return nil
		}
		r.TableID, r.Status, r.Cluster, r.Name = table, cloud.StatusAvailable, p.s.Cluster, "vpcroute-"+p.s.Cluster
		p.c.tables[table] = append(p.c.tables[table], r)
		return nil
	})
}

// DeleteRoutes implements cloud.Provider, re-checking ownership against
// the table as it is now.
func (p *Provider) DeleteRoutes(ctx context.Context, table string, routes []cloud.Route) error {
	return p.write(ctx, "DeleteRoutes", table, routes, func(i int, r cloud.Route) error {
		switch {
		case i < 0 || p.c.tables[table][i].Target != r.Target:
			return nil // gone, or moved: not what the caller meant
		case !p.c.tables[table][i].OwnedBy(p.s.Cluster):
			return fmt.Errorf("refusing to delete %s: not owned by vpcroute cluster %q", p.c.tables[table][i], p.s.Cluster)
		}
		p.c.tables[table] = slices.Delete(p.c.tables[table], i, i+1)
		return nil
	})
}

// ReplaceRoutes implements cloud.Replacer, re-checking ownership.
func (p *Provider) ReplaceRoutes(ctx context.Context, table string, routes []cloud.Route) error {
	return p.write(ctx, "ReplaceRoutes", table, routes, func(i int, r cloud.Route) error {
		if i < 0 || !p.c.tables[table][i].OwnedBy(p.s.Cluster) {
			return fmt.Errorf("refusing to replace %s in %s: not held by vpcroute cluster %q", r.Destination, table, p.s.Cluster)
		}
		p.c.tables[table][i].Target = r.Target
		return nil
	})
}

// write runs one change per route under the cloud's lock, after the
// checks every write shares: a cluster, an existing table, a live term.
func (p *Provider) write(ctx context.Context, call, table string, routes []cloud.Route, change func(i int, r cloud.Route) error) error {
	if p.s.Cluster == "" {
		return fmt.Errorf("%s in %s: the fake provider was set up without cluster-name", call, table)
	}
	if err := cloud.Stopped(ctx, fmt.Sprintf("%s in %s", call, table)); err != nil {
		return err
	}
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	p.c.record("%s %s", call, table)
	if _, ok := p.c.tables[table]; !ok {
		return fmt.Errorf("%s in %s: no such route table", call, table)
	}
	var errs []error
	for _, r := range routes {
		if err := change(p.c.find(table, r.Destination), r); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// GoneTargets implements cloud.Provider: targets whose instance is not in
// the cloud.
func (p *Provider) GoneTargets(_ context.Context, targets []cloud.Target) ([]cloud.Target, error) {
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	var out []cloud.Target
	for _, t := range targets {
		if _, ok := p.c.instances[t.ID]; !ok {
			out = append(out, t)
		}
	}
	return out, nil
}

// InstanceTargets implements cloud.Provider: every listed instance is
// routed to itself, whatever its host claims.
func (p *Provider) InstanceTargets(_ context.Context, claims map[string]cloud.Target) (map[string]cloud.Target, error) {
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	out := map[string]cloud.Target{}
	for id := range claims {
		if _, ok := p.c.instances[id]; ok {
			out[id] = cloud.Target{Kind: cloud.TargetInstance, ID: id}
		}
	}
	return out, nil
}

// PrepareHost implements cloud.HostPreparer: it turns this instance's
// source/destination check off.
func (p *Provider) PrepareHost(ctx context.Context) error {
	if err := cloud.Stopped(ctx, "prepare the host"); err != nil {
		return err
	}
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	p.c.record("PrepareHost %s", p.self.ID)
	p.c.checkOn[p.self.ID] = false
	return nil
}

// SourceDestCheck implements cloud.SourceDestChecker.
func (p *Provider) SourceDestCheck(context.Context) (string, bool, error) {
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	return p.self.ID, p.c.checkOn[p.self.ID], nil
}
