package aliyun

import (
	"context"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v5"
	"go.uber.org/zap"
)

// newBackOff is the pacing of retries: jittered exponential from 500ms,
// capped at 8s between tries. The jitter keeps hosts that collided once
// from colliding again on the next try.
func newBackOff() backoff.BackOff {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = 500 * time.Millisecond
	b.MaxInterval = 8 * time.Second
	b.Multiplier = 1.6
	b.RandomizationFactor = 0.5
	return b
}

// callRetry runs one API call, converting SDK errors to *APIError and
// retrying the retryable ones until opts.RetryTimeout or ctx ends. Each
// attempt is reported to opts.Observer by the observed clients fn calls
// (observe.go), not here, so that a call is counted once with its answer.
func callRetry[T any](ctx context.Context, p *Provider, action string, fn func() (T, error)) (T, error) {
	attempt := 0
	op := func() (T, error) {
		attempt++
		v, err := fn()
		if err == nil {
			return v, nil
		}
		err = wrapSDKError(action, err)
		if !retryable(err) {
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
