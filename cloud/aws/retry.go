package aws

import (
	"context"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v5"
	"go.uber.org/zap"
)

// The SDK's own retryer is off (aws.NopRetryer on the EC2 client): every
// attempt goes through callRetry, so each one is paced by the mutating
// bucket, seen by the observer (observe.go) and logged, and one backoff
// policy holds for every call.

// newBackOff is the pacing of retries: jittered exponential from 500ms,
// capped at 8s between tries. The jitter keeps hosts that were throttled
// together from coming back together.
func newBackOff() backoff.BackOff {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = 500 * time.Millisecond
	b.MaxInterval = 8 * time.Second
	b.Multiplier = 1.6
	b.RandomizationFactor = 0.5
	return b
}

// callRetry runs one API call, converting SDK errors to *APIError and
// retrying the retryable ones until opts.RetryTimeout or ctx ends. A
// mutating action first waits for a token of the client-side bucket, on
// every attempt: a retry costs EC2 a token as much as the first try.
func callRetry[T any](ctx context.Context, p *Provider, action string, fn func(context.Context) (T, error)) (T, error) {
	attempt := 0
	op := func() (T, error) {
		attempt++
		var zero T
		if mutating[action] {
			if err := p.limiter.Wait(ctx); err != nil {
				return zero, backoff.Permanent(fmt.Errorf("%s: wait for the mutating-call budget (%g/s): %w", action, p.opts.MutatingRate, err))
			}
		}
		v, err := fn(ctx)
		if err == nil {
			return v, nil
		}
		err = wrapSDKError(action, err)
		if !retryable(err) || ctx.Err() != nil {
			return v, backoff.Permanent(err)
		}
		return v, err
	}
	notify := func(err error, wait time.Duration) {
		p.log.Warn("retrying cloud call", zap.String("action", action), zap.Int("attempt", attempt),
			zap.String("code", codeOf(err)), zap.Bool("throttled", throttled(err)),
			zap.Duration("wait", wait), zap.Error(err))
	}
	v, err := backoff.Retry(ctx, op, backoff.WithBackOff(newBackOff()),
		backoff.WithMaxElapsedTime(p.opts.RetryTimeout), backoff.WithNotify(notify))
	if err != nil && attempt > 1 && retryable(err) {
		err = fmt.Errorf("%w (gave up after %d tries)", err, attempt)
	}
	return v, err
}
