package aliyun

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"go.uber.org/zap"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/cloud/internal/callretry"
)

// callRetry runs one API call, converting SDK errors to *APIError and
// retrying the retryable ones until opts.RetryTimeout or ctx ends. Each
// attempt is reported to opts.Observer by the observed clients fn calls
// (observe.go), not here, so that a call is counted once with its answer.
func callRetry[T any](ctx context.Context, p *Provider, action string, fn func(context.Context) (T, error)) (T, error) {
	return callretry.Do(ctx, p.policy(retryable), action, fn)
}

func (p *Provider) policy(retry func(error) bool) callretry.Policy {
	return callretry.Policy{
		Wrap: wrapSDKError, Retryable: retry, Code: codeOf, Throttled: throttled,
		Timeout: p.opts.RetryTimeout, Log: p.log,
	}
}

// Quiet-conflict pacing: a change refused while no table known to be in
// the VPC shows one in flight (another table, not listed by this
// provider) is sent again after a jittered wait, growing from
// quietFirst up to quietMax.
const (
	quietFirst = 250 * time.Millisecond
	quietMax   = 4 * time.Second
)

// writeRetry runs one change call on tableID. A conflict answer
// (IncorrectRouteEntryStatus, TaskConflict...: another change is in flight
// in the VPC) is not retried after a blind backoff: the VPC's tables are
// polled until nothing is in flight, at the pace of the settle clock, and
// the call is sent again at once. Other retryable errors are retried by
// callRetry. Conflicts are retried until opts.RetryTimeout.
func writeRetry[T any](ctx context.Context, p *Provider, tableID, action string, fn func(context.Context) (T, error)) (T, error) {
	pol := p.policy(func(err error) bool { return retryable(err) && !busyCode(codeOf(err)) })
	deadline := time.Now().Add(p.opts.RetryTimeout)
	quiet := 0
	for conflicts := 0; ; conflicts++ {
		v, err := callretry.Do(ctx, pol, action, fn)
		if err == nil || !busyCode(codeOf(err)) {
			return v, err
		}
		left := time.Until(deadline)
		if left <= 0 {
			return v, fmt.Errorf("%w (gave up after %d conflicts)", err, conflicts+1)
		}
		p.log.Info("change refused while another is in flight; waiting for the VPC to settle",
			zap.String("action", action), zap.String("table", tableID), zap.String("code", codeOf(err)))
		busy, werr := p.waitVPCSettled(ctx, tableID, left)
		if werr != nil {
			return v, fmt.Errorf("%w, then: %w", err, werr)
		}
		if busy {
			quiet = 0
			continue
		}
		// Refused though nothing known is in flight: the change is in a
		// table this provider does not list. Wait a little, jittered.
		d := min(quietFirst<<min(quiet, 5), quietMax)
		quiet++
		select {
		case <-ctx.Done():
			return v, fmt.Errorf("%w, then: %w", err, cloud.Stopped(ctx, action))
		case <-time.After(d/2 + rand.N(d)):
		}
	}
}

// waitVPCSettled polls tableID, then every other table this provider has
// listed in the VPC, until none shows a change in flight; busy reports
// whether one did.
func (p *Provider) waitVPCSettled(ctx context.Context, tableID string, timeout time.Duration) (busy bool, err error) {
	deadline := time.Now().Add(timeout)
	tables := []string{tableID}
	for _, t := range p.settle.watched() {
		if t != tableID {
			tables = append(tables, t)
		}
	}
	for _, t := range tables {
		b, err := p.pollSettled(ctx, t, max(time.Until(deadline), time.Millisecond))
		if err != nil {
			return busy, err
		}
		busy = busy || b
	}
	return busy, nil
}
