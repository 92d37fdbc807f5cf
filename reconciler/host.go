package reconciler

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/vpcroute/vpcroute/cloud"
)

// HostPlan is what one host's sync would do: who the host is, its VPC, its
// subnets and the changes to the managed tables.
type HostPlan struct {
	Self    cloud.Instance `json:"self"`
	Network cloud.Network  `json:"network"`
	Subnets []netip.Prefix `json:"subnets"`
	Changes Changes        `json:"changes"`
}

// HostOptions are the settings of a one-shot host sync.
type HostOptions struct {
	Cluster     string
	ClusterCIDR netip.Prefix
	Policy      Policy
	// Remove plans the deletion of every route of this host (decommission).
	Remove bool
	// AllowCarveOut: see PlanInput.AllowCarveOut.
	AllowCarveOut bool
}

// PlanHost reads the VPC and its tables and plans this host's routes: each
// local subnet to this host. Deletions stay within this host's own routes.
func PlanHost(ctx context.Context, p cloud.Provider, opts HostOptions, subnets []netip.Prefix) (HostPlan, error) {
	var hp HostPlan
	self, err := p.Self(ctx)
	if err != nil {
		return hp, fmt.Errorf("identify this host: %w", err)
	}
	network, err := p.Network(ctx)
	if err != nil {
		return hp, err
	}
	hp.Self, hp.Network, hp.Subnets = self, network, subnets
	in := PlanInput{
		Cluster: opts.Cluster, ClusterCIDR: opts.ClusterCIDR,
		VPCCIDRs: network.CIDRs, SubnetCIDRs: network.SubnetCIDRs,
		Tables: map[string][]cloud.Route{}, Scope: []cloud.Target{self.Target}, Policy: opts.Policy,
		AllowCarveOut: opts.AllowCarveOut,
	}
	if opts.Remove {
		in.Policy = PolicySync
	} else {
		for _, s := range subnets {
			in.Desired = append(in.Desired, Desired{Destination: s, Target: self.Target})
		}
	}
	for _, t := range network.RouteTables {
		routes, err := p.Routes(ctx, t)
		if err != nil {
			return hp, err
		}
		in.Tables[t] = routes
	}
	hp.Changes = Calculate(in)
	return hp, nil
}

// ApplyHost applies a host plan and waits until every route of this host
// that the plan keeps or creates is Available. It returns an error naming
// each refusal and blocking conflict even when the rest was applied.
func ApplyHost(ctx context.Context, p cloud.Provider, hp HostPlan, timeout time.Duration) error {
	errs := []error{Apply(ctx, p, hp.Changes)}
	errs = append(errs, waitInSync(ctx, p, hp.Changes.InSync, timeout))
	errs = append(errs, hp.Changes.Problem())
	return errors.Join(errs...)
}

// Problem returns one error naming every refused route and blocking
// conflict, or nil.
func (c Changes) Problem() error {
	var lines []string
	for _, r := range c.Refused {
		lines = append(lines, r.Reason)
	}
	for _, cf := range c.Conflicts {
		if cf.Blocking() {
			lines = append(lines, "conflict: "+cf.Reason)
		}
	}
	if len(lines) == 0 {
		return nil
	}
	return errors.New(strings.Join(lines, "; "))
}

// waitInSync waits for owned entries that were already there but not yet
// Available (another run created them a moment ago).
func waitInSync(ctx context.Context, p cloud.Provider, inSync []cloud.Route, timeout time.Duration) error {
	pending := map[string][]cloud.Route{}
	for _, r := range inSync {
		if r.Status != cloud.StatusAvailable {
			pending[r.TableID] = append(pending[r.TableID], r)
		}
	}
	if len(pending) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for table, want := range pending {
		for {
			routes, err := p.Routes(ctx, table)
			if err != nil {
				return err
			}
			if allAvailable(routes, want) {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("routes in %s not Available after %s", table, timeout)
			case <-time.After(500 * time.Millisecond):
			}
		}
	}
	return nil
}

func allAvailable(routes, want []cloud.Route) bool {
	for _, w := range want {
		found := false
		for _, r := range routes {
			if r.Destination == w.Destination && r.Target == w.Target && r.Status == cloud.StatusAvailable {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
