package aliyun

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/vpc"
	"go.uber.org/zap"

	"github.com/vpcroute/vpcroute/cloud"
)

// maxBatch is the most entries CreateRouteEntries and DeleteRouteEntries
// take in one call.
const maxBatch = 50

// defaultQuota is the custom-entry quota of a route table unless raised
// (API reference of CreateRouteEntry: "A route table can contain up to 200
// custom route entries").
const defaultQuota = 200

// CreateRoutes implements cloud.Provider. Entries are created in batches of
// up to 50; each batch must leave Pending before the next is sent, because
// Alibaba refuses a change in a VPC while another one is in flight. A
// batch also waits for a change in flight in the table that is not ours
// (another process's) rather than being refused. ctx, the leadership
// term's, is checked before each batch and each poll.
func (p *Provider) CreateRoutes(ctx context.Context, tableID string, routes []cloud.Route) error {
	cluster, err := p.writeCluster("create")
	if err != nil {
		return err
	}
	p.writeMu.Lock()
	defer p.writeMu.Unlock()
	var last []cloud.Route // the listing that saw the previous batch done
	for start := 0; start < len(routes); start += maxBatch {
		chunk := routes[start:min(start+maxBatch, len(routes))]
		if err := cloud.Stopped(ctx, fmt.Sprintf("create %d routes in %s", len(chunk), tableID)); err != nil {
			return err
		}
		if err := p.waitSettled(ctx, tableID, last); err != nil {
			return fmt.Errorf("create %d routes in %s: %w", len(chunk), tableID, err)
		}
		if err := p.createChunk(ctx, tableID, cluster, chunk); err != nil {
			return err
		}
		var err error
		if last, err = p.waitAvailable(ctx, tableID, chunk); err != nil {
			return err
		}
		cloud.Progress(ctx)
	}
	return nil
}

// createChunk sends one create call for up to maxBatch entries.
func (p *Provider) createChunk(ctx context.Context, tableID, cluster string, chunk []cloud.Route) error {
	var err error
	if len(chunk) == 1 {
		err = p.createOne(ctx, tableID, cluster, chunk[0])
	} else {
		err = p.createBatch(ctx, tableID, cluster, chunk)
	}
	if codeOf(err) == codeQuotaExceeded {
		return p.quotaError(ctx, tableID, err)
	}
	return err
}

func (p *Provider) createOne(ctx context.Context, tableID, cluster string, r cloud.Route) error {
	req := vpc.CreateCreateRouteEntryRequest()
	req.RouteTableId = tableID
	req.DestinationCidrBlock = r.Destination.String()
	req.NextHopType = r.Target.Kind
	req.NextHopId = r.Target.ID
	req.RouteEntryName = entryName(cluster)
	req.Description = entryDescription(cluster, r.Target.ID)
	p.log.Info("creating route", zap.Stringer("route", r))
	_, err := writeRetry(ctx, p, tableID, "CreateRouteEntry", func(ctx context.Context) (*vpc.CreateRouteEntryResponse, error) {
		sent := time.Now()
		resp, err := p.api.CreateRouteEntry(ctx, req)
		if err == nil {
			p.settle.started(tableID, []netip.Prefix{r.Destination}, sent, time.Now())
		}
		return resp, err
	})
	if codeOf(err) == codeDuplicate {
		// Another run created it first; waitAvailable checks that it is ours.
		return nil
	}
	if err != nil {
		return fmt.Errorf("create route %s in %s: %w", r.Destination, tableID, err)
	}
	return nil
}

// createBatch sends CreateRouteEntries for up to maxBatch entries.
func (p *Provider) createBatch(ctx context.Context, tableID, cluster string, chunk []cloud.Route) error {
	// A duplicate is checked by waitAvailable: ours is success, another
	// next hop an error.
	return p.sendBatch(ctx, "CreateRouteEntries", "create", tableID, chunk, codeDuplicate,
		func(ctx context.Context, todo []cloud.Route) ([]vpc.FailedRouteEntriesItem, error) {
			req := vpc.CreateCreateRouteEntriesRequest()
			entries := make([]vpc.CreateRouteEntriesRouteEntries, 0, len(todo))
			for _, r := range todo {
				// The API reference's names and values only: the SDK's
				// Describption field is a misspelling the API does not list,
				// and IpVersion takes 4 or 6.
				entries = append(entries, vpc.CreateRouteEntriesRouteEntries{
					RouteTableId: tableID, DstCidrBlock: r.Destination.String(), IpVersion: "4",
					NextHopType: r.Target.Kind, NextHop: r.Target.ID,
					Name: entryName(cluster), Description: entryDescription(cluster, r.Target.ID),
				})
			}
			req.RouteEntries = &entries
			p.log.Info("creating routes", zap.String("table", tableID), zap.Int("count", len(todo)))
			sent := time.Now()
			resp, err := p.api.CreateRouteEntries(ctx, req)
			if err != nil {
				return nil, err
			}
			p.startedAll(tableID, todo, resp.FailedRouteEntries, sent)
			return resp.FailedRouteEntries, nil
		})
}

// sendBatch sends a batch call and re-sends the entries that failed with a
// retryable code until they succeed or the retry budget is spent. Entries
// failing with done count as success.
func (p *Provider) sendBatch(ctx context.Context, action, verb, tableID string, routes []cloud.Route, done string,
	send func(context.Context, []cloud.Route) ([]vpc.FailedRouteEntriesItem, error)) error {
	todo := routes
	var final []error
	_, err := writeRetry(ctx, p, tableID, action, func(ctx context.Context) (struct{}, error) {
		failed, err := send(ctx, todo)
		if err != nil {
			return struct{}{}, err
		}
		var retry []cloud.Route
		var retryCode string
		for _, f := range failed {
			r, ok := findByDestination(todo, f.DstCidrBlock)
			switch {
			case f.FailedCode == done:
			case ok && retryableCode(f.FailedCode):
				retry, retryCode = append(retry, r), f.FailedCode
			default:
				final = append(final, fmt.Errorf("%s route %s in %s: %w", verb, f.DstCidrBlock, tableID,
					&APIError{Action: action, Code: f.FailedCode, Status: 400, Message: f.FailedMessage}))
			}
		}
		todo = retry
		if len(retry) > 0 {
			return struct{}{}, &APIError{Action: action, Code: retryCode, Status: 400,
				Message: fmt.Sprintf("%d entries to retry", len(retry))}
		}
		return struct{}{}, nil
	})
	if err != nil {
		final = append(final, fmt.Errorf("%s %d routes in %s: %w", verb, len(todo), tableID, err))
	}
	return errors.Join(final...)
}

// startedAll notes the changes of a batch call sent at sent: every route
// of todo but the failed ones.
func (p *Provider) startedAll(tableID string, todo []cloud.Route, failed []vpc.FailedRouteEntriesItem, sent time.Time) {
	accepted := time.Now()
	var dests []netip.Prefix
	for _, r := range todo {
		if !slices.ContainsFunc(failed, func(f vpc.FailedRouteEntriesItem) bool { return f.DstCidrBlock == r.Destination.String() }) {
			dests = append(dests, r.Destination)
		}
	}
	p.settle.started(tableID, dests, sent, accepted)
}

func findByDestination(routes []cloud.Route, dst string) (cloud.Route, bool) {
	pfx, err := netip.ParsePrefix(dst)
	if err != nil {
		return cloud.Route{}, false
	}
	for _, r := range routes {
		if r.Destination == pfx.Masked() {
			return r, true
		}
	}
	return cloud.Route{}, false
}

// quotaPattern finds the quota in a QuotaExceeded message when the
// message names it ("... its quota is 200."). Alibaba documents the code
// and the default quota (200 custom entries per table) but not the
// message's wording, so only a number labelled as the quota is taken: the
// entry count, IDs and CIDRs in the same text are not the quota.
var quotaPattern = regexp.MustCompile(`(?i)\bquota(?:\s+is|\s+of)?\s*[:=]?\s*(\d+)\b`)

// quotaError names the table, its quota and how many entries it holds.
// When the message does not say the quota, the count is the quota: the
// table just refused one more entry. Only when the table cannot be listed
// either is the documented default assumed.
func (p *Provider) quotaError(ctx context.Context, tableID string, cause error) error {
	qe := &cloud.QuotaError{TableID: tableID, Code: codeQuotaExceeded}
	var api *APIError
	if errors.As(cause, &api) {
		if m := quotaPattern.FindStringSubmatch(api.Message); m != nil {
			qe.Quota, _ = strconv.Atoi(m[1])
		}
	}
	routes, err := p.Routes(ctx, tableID)
	if err != nil {
		p.log.Warn("count entries of a full table", zap.String("table", tableID), zap.Error(err))
	}
	for _, r := range routes {
		if !r.System {
			qe.Used++
		}
	}
	switch {
	case qe.Quota > 0:
	case err == nil:
		qe.Quota = qe.Used
	default:
		qe.Quota = defaultQuota
	}
	return qe
}

// DeleteRoutes implements cloud.Provider. Ownership is checked once more
// against the table as it is now, just before the delete is sent.
func (p *Provider) DeleteRoutes(ctx context.Context, tableID string, routes []cloud.Route) error {
	cluster, err := p.writeCluster("delete")
	if err != nil {
		return err
	}
	p.writeMu.Lock()
	defer p.writeMu.Unlock()
	current, err := p.Routes(ctx, tableID)
	if err != nil {
		return err
	}
	send, refused := cloud.DeletableBy(cluster, current, routes)
	var errs []error
	for _, e := range refused {
		errs = append(errs, fmt.Errorf("refusing to delete %s: the entry is not owned by vpcroute cluster %q", e, cluster))
	}
	last := current // the listing that saw the previous batch done
	for start := 0; start < len(send); start += maxBatch {
		chunk := send[start:min(start+maxBatch, len(send))]
		if err := cloud.Stopped(ctx, fmt.Sprintf("delete %d routes in %s", len(chunk), tableID)); err != nil {
			errs = append(errs, err)
			break
		}
		if err := p.waitSettled(ctx, tableID, last); err != nil {
			errs = append(errs, fmt.Errorf("delete %d routes in %s: %w", len(chunk), tableID, err))
			break
		}
		if err := p.deleteChunk(ctx, tableID, chunk); err != nil {
			errs = append(errs, err)
			break
		}
		if last, err = p.waitGone(ctx, tableID, chunk); err != nil {
			errs = append(errs, err)
			break
		}
		cloud.Progress(ctx)
	}
	return errors.Join(errs...)
}

func (p *Provider) deleteChunk(ctx context.Context, tableID string, chunk []cloud.Route) error {
	if len(chunk) == 1 {
		r := chunk[0]
		req := vpc.CreateDeleteRouteEntryRequest()
		req.RouteTableId = tableID
		req.RouteEntryId = r.ID
		req.DestinationCidrBlock = r.Destination.String()
		req.NextHopId = r.Target.ID
		p.log.Info("deleting route", zap.Stringer("route", r))
		_, err := writeRetry(ctx, p, tableID, "DeleteRouteEntry", func(ctx context.Context) (*vpc.DeleteRouteEntryResponse, error) {
			sent := time.Now()
			resp, err := p.api.DeleteRouteEntry(ctx, req)
			if err == nil {
				p.settle.started(tableID, []netip.Prefix{r.Destination}, sent, time.Now())
			}
			return resp, err
		})
		if err != nil && codeOf(err) != codeEntryNotFound {
			return fmt.Errorf("delete route %s in %s: %w", r.Destination, tableID, err)
		}
		return nil
	}
	return p.sendBatch(ctx, "DeleteRouteEntries", "delete", tableID, chunk, codeEntryNotFound,
		func(ctx context.Context, todo []cloud.Route) ([]vpc.FailedRouteEntriesItem, error) {
			req := vpc.CreateDeleteRouteEntriesRequest()
			entries := make([]vpc.DeleteRouteEntriesRouteEntries, 0, len(todo))
			for _, r := range todo {
				entries = append(entries, vpc.DeleteRouteEntriesRouteEntries{
					RouteTableId: tableID, RouteEntryId: r.ID, DstCidrBlock: r.Destination.String(), NextHop: r.Target.ID,
				})
			}
			req.RouteEntries = &entries
			p.log.Info("deleting routes", zap.String("table", tableID), zap.Int("count", len(todo)))
			sent := time.Now()
			resp, err := p.api.DeleteRouteEntries(ctx, req)
			if err != nil {
				return nil, err
			}
			p.startedAll(tableID, todo, resp.FailedRouteEntries, sent)
			return resp.FailedRouteEntries, nil
		})
}

func describeHolder(e cloud.Route) string {
	if e.Cluster != "" {
		return "vpcroute cluster " + e.Cluster
	}
	if e.Name != "" {
		return "entry " + e.Name + ", not vpcroute's"
	}
	return "an entry not vpcroute's"
}
