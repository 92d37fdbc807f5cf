package aws

import (
	"context"
	"errors"
	"fmt"
	"time"

	awsv2 "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"go.uber.org/zap"

	"github.com/vpcroute/vpcroute/cloud"
)

// EC2 applies route changes at once (no Pending state) and takes one
// route per call, so writes go one by one, each paced by the mutating
// bucket. Creations are confirmed by one listing afterwards: the API is
// eventually consistent, and a RouteAlreadyExists answer only says that
// the destination is taken, not by whom. ctx is the leadership term's: it
// is checked before every route and every confirming listing, and once it
// has ended nothing more is sent.

// CreateRoutes implements cloud.Provider. A route whose destination is
// already held by the same ENI is success (another run got there first);
// held by anything else, it is an error naming the holder. A full table
// stops the creations in it with a *cloud.QuotaError.
func (p *Provider) CreateRoutes(ctx context.Context, tableID string, routes []cloud.Route) error {
	valid, errs := p.checkWrite("create", tableID, routes)
	return p.sendEach(ctx, "create", tableID, valid, errs, func(r cloud.Route) error {
		return p.createOne(ctx, tableID, r)
	})
}

// sendEach sends one call per route (send) in order, checking the term
// before each, and confirms the routes sent with one listing. A full table
// stops the rest with a *cloud.QuotaError, and so does an error that would
// fail every further call (stopsAll); any other error is kept and the next
// route sent. errs are the errors found before sending, returned first.
func (p *Provider) sendEach(ctx context.Context, verb, tableID string, routes []cloud.Route, errs []error, send func(cloud.Route) error) error {
	var sent []cloud.Route
	for _, r := range routes {
		if err := cloud.Stopped(ctx, fmt.Sprintf("%s route %s in %s", verb, r.Destination, tableID)); err != nil {
			errs = append(errs, err)
			break
		}
		err := send(r)
		cloud.Progress(ctx)
		if codeOf(err) == codeRouteLimit {
			errs = append(errs, p.quotaError(ctx, tableID))
			break
		}
		if err != nil {
			errs = append(errs, err)
			if stopsAll(ctx, err) {
				break
			}
			continue
		}
		sent = append(sent, r)
	}
	errs = append(errs, p.confirm(ctx, tableID, sent))
	return errors.Join(errs...)
}

// stopsAll reports whether err will fail every further call of a batch
// as well: a denial, a rejected signature, retries given up, ctx ended.
// Sending the rest would only repeat the error once per route.
func stopsAll(ctx context.Context, err error) bool {
	switch codeOf(err) {
	case codeUnauthorized, codeAuthFailure, codeSignatureInvalid, codeClient:
		return true
	}
	return retryable(err) || ctx.Err() != nil
}

// createOne sends CreateRoute; RouteAlreadyExists is left to confirm.
func (p *Provider) createOne(ctx context.Context, tableID string, r cloud.Route) error {
	in := &ec2.CreateRouteInput{RouteTableId: awsv2.String(tableID),
		DestinationCidrBlock: awsv2.String(r.Destination.String()), NetworkInterfaceId: awsv2.String(r.Target.ID)}
	p.log.Info("creating route", zap.Stringer("route", r))
	_, err := callRetry(ctx, p, "CreateRoute", func(ctx context.Context) (*ec2.CreateRouteOutput, error) {
		return p.api.CreateRoute(ctx, in)
	})
	if err == nil || codeOf(err) == codeRouteExists {
		return nil
	}
	if codeOf(err) == codeRouteLimit {
		return err
	}
	return fmt.Errorf("create route %s in %s: %w", r.Destination, tableID, err)
}

// ReplaceRoutes implements cloud.Replacer: each destination, held by a
// route the cluster owns, is pointed at the route's ENI with one
// ReplaceRoute call, so it is never unrouted in between. Ownership is
// checked against a fresh listing just before. A destination that has
// meanwhile disappeared is created.
func (p *Provider) ReplaceRoutes(ctx context.Context, tableID string, routes []cloud.Route) error {
	cluster := p.opts.Cluster
	valid, errs := p.checkWrite("replace", tableID, routes)
	if len(valid) == 0 {
		return errors.Join(errs...)
	}
	current, err := p.Routes(ctx, tableID)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	var todo []cloud.Route
	for _, r := range valid {
		e, ok := cloud.FindDestination(current, r.Destination)
		switch {
		case ok && e.Target == r.Target:
			continue // already there
		case ok && (!e.OwnedBy(cluster) || e.System):
			errs = append(errs, fmt.Errorf("refusing to replace %s: it is held by %s, not by vpcroute cluster %q", r.Destination, describeHolder(e), cluster))
			continue
		}
		todo = append(todo, r)
	}
	return p.sendEach(ctx, "replace", tableID, todo, errs, func(r cloud.Route) error {
		e, ok := cloud.FindDestination(current, r.Destination)
		var err error
		if ok {
			err = p.replaceOne(ctx, tableID, e, r)
		}
		if !ok || routeMissing(err) {
			// Deleted since the listing: nothing is held, so nothing can
			// be taken from anyone by creating it.
			err = p.createOne(ctx, tableID, r)
		}
		return err
	})
}

// replaceOne sends ReplaceRoute moving old's destination to r's ENI. A
// destination the table no longer holds is returned unwrapped, for
// routeMissing.
func (p *Provider) replaceOne(ctx context.Context, tableID string, old, r cloud.Route) error {
	in := &ec2.ReplaceRouteInput{RouteTableId: awsv2.String(tableID),
		DestinationCidrBlock: awsv2.String(r.Destination.String()), NetworkInterfaceId: awsv2.String(r.Target.ID)}
	p.log.Info("replacing route", zap.Stringer("route", r), zap.Stringer("was", old.Target))
	_, err := callRetry(ctx, p, "ReplaceRoute", func(ctx context.Context) (*ec2.ReplaceRouteOutput, error) {
		return p.api.ReplaceRoute(ctx, in)
	})
	if err != nil && !routeMissing(err) {
		return fmt.Errorf("replace route %s in %s (%s -> %s): %w", r.Destination, tableID, old.Target, r.Target, err)
	}
	return err
}

// DeleteRoutes implements cloud.Provider. Ownership is checked once more
// against the table as it is now, just before each delete is sent; a route
// already gone is success.
func (p *Provider) DeleteRoutes(ctx context.Context, tableID string, routes []cloud.Route) error {
	cluster := p.opts.Cluster
	if err := p.checkCluster("delete"); err != nil {
		return err
	}
	current, err := p.Routes(ctx, tableID)
	if err != nil {
		return err
	}
	owned, refused := cloud.DeletableBy(cluster, current, routes)
	var errs []error
	for _, e := range refused {
		errs = append(errs, fmt.Errorf("refusing to delete %s: the route is not owned by vpcroute cluster %q", e, cluster))
	}
	for _, e := range owned {
		if err := cloud.Stopped(ctx, fmt.Sprintf("delete route %s in %s", e.Destination, tableID)); err != nil {
			errs = append(errs, err)
			break
		}
		in := &ec2.DeleteRouteInput{RouteTableId: awsv2.String(tableID), DestinationCidrBlock: awsv2.String(e.Destination.String())}
		p.log.Info("deleting route", zap.Stringer("route", e))
		_, err := callRetry(ctx, p, "DeleteRoute", func(ctx context.Context) (*ec2.DeleteRouteOutput, error) {
			return p.api.DeleteRoute(ctx, in)
		})
		cloud.Progress(ctx)
		if err != nil && codeOf(err) != codeRouteNotFound {
			errs = append(errs, fmt.Errorf("delete route %s in %s: %w", e.Destination, tableID, err))
			if stopsAll(ctx, err) {
				break
			}
		}
	}
	return errors.Join(errs...)
}

// checkCluster refuses writes by a provider set up without a cluster:
// ownership is judged with opts.Cluster and opts.ClusterCIDR, and without
// them no route could be recognised as the cluster's again.
func (p *Provider) checkCluster(verb string) error {
	if p.opts.Cluster == "" || !p.opts.ClusterCIDR.IsValid() {
		return fmt.Errorf("cannot %s routes: the aws provider was set up without cluster-name and cluster-cidr, and recognises no route as its own", verb)
	}
	return nil
}

// checkWrite returns the routes that may be written: an ENI target and a
// destination inside the cluster CIDR (any other route could never be
// recognised as the cluster's again, and would be left behind).
func (p *Provider) checkWrite(verb, tableID string, routes []cloud.Route) ([]cloud.Route, []error) {
	if err := p.checkCluster(verb); err != nil {
		return nil, []error{err}
	}
	var ok []cloud.Route
	var errs []error
	for _, r := range routes {
		switch {
		case r.Target.Kind != cloud.TargetNetworkInterface || !validID("eni-", r.Target.ID):
			errs = append(errs, fmt.Errorf("%s route %s in %s: target %s is invalid: expected a NetworkInterface target (eni-...)", verb, r.Destination, tableID, r.Target))
		case !r.Destination.IsValid() || !r.Destination.Addr().Is4() ||
			r.Destination.Bits() < p.opts.ClusterCIDR.Bits() || !p.opts.ClusterCIDR.Contains(r.Destination.Addr()):
			errs = append(errs, fmt.Errorf("%s route %s in %s: destination is invalid: expected an IPv4 CIDR inside cluster CIDR %s", verb, r.Destination, tableID, p.opts.ClusterCIDR))
		default:
			ok = append(ok, r)
		}
	}
	return ok, errs
}

// confirm lists the table until each route of want is there. A destination
// held by another target is an error at once: waiting will not change it.
// A missing one is waited for up to opts.ChangeTimeout (EC2's reads lag
// its writes by moments).
func (p *Provider) confirm(ctx context.Context, tableID string, want []cloud.Route) error {
	if len(want) == 0 {
		return nil
	}
	term := ctx
	ctx, cancel := context.WithTimeout(ctx, p.opts.ChangeTimeout)
	defer cancel()
	interval := 200 * time.Millisecond
	list, marked := p.routesUnmarked, false
	for {
		if err := cloud.Stopped(term, "confirm routes in "+tableID); err != nil {
			return err
		}
		// Confirming needs destinations and targets only: one
		// DescribeRouteTables, no ENI tag lookup, unless a destination is
		// held by another target and the error must name its owner.
		current, err := list(ctx, tableID)
		if err != nil {
			return fmt.Errorf("confirm routes in %s: %w", tableID, err)
		}
		cloud.Progress(ctx)
		if held(current, want) && !marked {
			list, marked = p.Routes, true
			continue
		}
		var errs []error
		missing := 0
		for _, w := range want {
			e, ok := cloud.FindDestination(current, w.Destination)
			switch {
			case !ok:
				missing++
			case e.Target != w.Target:
				errs = append(errs, fmt.Errorf("create route %s in %s: destination is held by %s (%s)", w.Destination, tableID, e.Target, describeHolder(e)))
			}
		}
		if len(errs) > 0 || missing == 0 {
			return errors.Join(errs...)
		}
		select {
		case <-ctx.Done():
			if err := cloud.Stopped(term, "confirm routes in "+tableID); err != nil {
				return err
			}
			return fmt.Errorf("%d routes written to %s are not listed after %s: %w", missing, tableID, p.opts.ChangeTimeout, ctx.Err())
		case <-time.After(interval):
		}
		interval = min(interval*3/2, time.Second)
	}
}

// describeHolder says whose a route is, for error messages.
func describeHolder(e cloud.Route) string {
	switch {
	case e.Cluster != "":
		return "vpcroute cluster " + e.Cluster
	case e.System:
		return "a route of the cloud's own, " + e.Description
	}
	return "a route not vpcroute's, " + e.Description
}

// defaultRouteLimit is EC2's default quota of routes per route table.
const defaultRouteLimit = 50

// quotaError names the table, its limit and how many routes it holds.
// EC2's RouteLimitExceeded says neither ("You've reached the limit on the
// number of routes that you can add to a route table."), so both come from
// the table: its limit counts the routes added to it (origin CreateRoute),
// those vpcroute skips (IPv6, prefix lists) included, so they are counted
// from the raw table; the local and propagated routes do not count. The
// count is the limit, since the table just refused one more; only when the
// table cannot be read is EC2's default assumed.
func (p *Provider) quotaError(ctx context.Context, tableID string) error {
	qe := &cloud.QuotaError{TableID: tableID, Code: codeRouteLimit, Quota: defaultRouteLimit}
	table, err := p.describeTable(ctx, tableID)
	if err != nil {
		p.log.Warn("count routes of a full table", zap.String("table", tableID), zap.Error(err))
		return qe
	}
	for _, r := range table.Routes {
		if r.Origin == types.RouteOriginCreateRoute {
			qe.Used++
		}
	}
	qe.Quota = qe.Used
	return qe
}

// held reports whether a wanted destination is listed with another target.
func held(current, want []cloud.Route) bool {
	for _, w := range want {
		if e, ok := cloud.FindDestination(current, w.Destination); ok && e.Target != w.Target {
			return true
		}
	}
	return false
}
