package aliyun

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
	"go.uber.org/zap"

	"github.com/vpcroute/vpcroute/cloud"
)

// maxInstanceIDs is the most IDs DescribeInstances takes in InstanceIds,
// and also its largest page: one call answers for a whole chunk.
const maxInstanceIDs = 100

// GoneTargets implements cloud.Provider. Instance targets are looked up
// with ECS DescribeInstances in this host's region, up to 100 per call; an
// instance missing from the answer is gone, because Alibaba Cloud forgets a
// released instance instead of giving it a terminal status. Any status that
// is returned (Stopped, Starting, ...) means present: a stopped host keeps
// its routes. Targets of other kinds, and IDs that are not ECS instance IDs
// (a malformed one would make ECS refuse the whole call), are never
// reported gone. On an error nothing is reported gone.
func (p *Provider) GoneTargets(ctx context.Context, targets []cloud.Target) ([]cloud.Target, error) {
	ids := instanceIDs(targets)
	present := make(map[string]bool, len(ids))
	for start := 0; start < len(ids); start += maxInstanceIDs {
		chunk := ids[start:min(start+maxInstanceIDs, len(ids))]
		err := p.describeInstances(ctx, chunk, func(in ecs.Instance) { present[in.InstanceId] = true })
		if err != nil {
			return nil, err
		}
	}
	var gone []cloud.Target
	seen := map[string]bool{}
	for _, t := range targets {
		if !checkable(t) || present[t.ID] || seen[t.ID] {
			continue
		}
		seen[t.ID] = true
		gone = append(gone, t)
	}
	if len(gone) > 0 {
		p.log.Info("instances confirmed gone", zap.Stringers("targets", gone))
	}
	return gone, nil
}

// checkable reports whether GoneTargets may ask ECS about t: an instance
// target whose ID has the shape of an ECS instance ID ("i-" and up to 40
// lowercase letters, digits or '-'). Anything else, sent in InstanceIds, would
// make ECS refuse the whole call, so one forged record could keep every
// other instance from being looked up.
func checkable(t cloud.Target) bool {
	rest, ok := strings.CutPrefix(t.ID, "i-")
	if t.Kind != cloud.TargetInstance || !ok || rest == "" || len(rest) > 40 {
		return false
	}
	return strings.IndexFunc(rest, func(c rune) bool { return (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' }) < 0
}

// instanceIDs returns the distinct checkable instance IDs, in order.
func instanceIDs(targets []cloud.Target) []string {
	var ids []string
	seen := map[string]bool{}
	for _, t := range targets {
		if checkable(t) && !seen[t.ID] {
			seen[t.ID] = true
			ids = append(ids, t.ID)
		}
	}
	return ids
}

// describeInstances asks ECS about up to maxInstanceIDs instances and calls
// found with each one it returns that was asked for. It follows pages
// although one page holds a whole chunk, so that a smaller page than asked
// for cannot make instances look gone.
func (p *Provider) describeInstances(ctx context.Context, ids []string, found func(ecs.Instance)) error {
	list, err := json.Marshal(ids)
	if err != nil {
		return fmt.Errorf("look up %d instances: encode IDs: %w", len(ids), err)
	}
	asked := make(map[string]bool, len(ids))
	for _, id := range ids {
		asked[id] = true
	}
	seen := 0
	for page := 1; ; page++ {
		req := ecs.CreateDescribeInstancesRequest()
		req.RegionId = p.self.Region
		req.InstanceIds = string(list)
		req.PageNumber = requests.NewInteger(page)
		req.PageSize = requests.NewInteger(maxInstanceIDs)
		resp, err := callRetry(ctx, p, "DescribeInstances", func(ctx context.Context) (*ecs.DescribeInstancesResponse, error) {
			return p.ecs.DescribeInstances(ctx, req)
		})
		if err != nil {
			return fmt.Errorf("look up %d instances in %s (%s...): %w", len(ids), p.self.Region, ids[0], err)
		}
		got := resp.Instances.Instance
		for _, in := range got {
			// Only IDs that were asked for count: an answer that ignored
			// the filter must not vouch for anything else.
			if asked[in.InstanceId] {
				found(in)
			}
		}
		seen += len(got)
		switch {
		case seen >= resp.TotalCount:
			return nil
		case len(got) == 0:
			// An empty page short of the total is an answer in doubt, and
			// doubt must not turn into deletions.
			return fmt.Errorf("look up %d instances in %s: page %d is empty but %d of %d instances were listed",
				len(ids), p.self.Region, page, seen, resp.TotalCount)
		}
	}
}
