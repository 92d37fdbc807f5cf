// Package callretry is the retry loop every provider wraps around its SDK
// calls: one backoff policy for all clouds, each provider supplying how to
// read its own errors.
package callretry

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v5"
	"go.uber.org/zap"

	"github.com/vpcroute/vpcroute/cloud"
)

// NewBackOff is the pacing of retries: jittered exponential from 500ms,
// capped at 8s between tries. The jitter keeps hosts that collided or were
// throttled together from coming back together.
func NewBackOff() backoff.BackOff {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = 500 * time.Millisecond
	b.MaxInterval = 8 * time.Second
	b.Multiplier = 1.6
	b.RandomizationFactor = 0.5
	return b
}

// Policy is how one provider reads its errors.
type Policy struct {
	// Wrap turns an SDK error of action into the provider's one-line error.
	Wrap func(action string, err error) error
	// Retryable reports whether a wrapped error is worth another try.
	Retryable func(error) bool
	// Code and Throttled describe a wrapped error for the retry log line.
	Code      func(error) string
	Throttled func(error) bool
	// Before runs ahead of every attempt (a rate limiter); its error ends
	// the retries. Nil: nothing.
	Before func(ctx context.Context, action string) error
	// Timeout bounds all the tries of one call.
	Timeout time.Duration
	Log     *zap.Logger
}

// Do runs fn, retrying what pol calls retryable until pol.Timeout or ctx
// ends. The error is pol.Wrap's, with the number of tries when it gave up
// on a retryable one. ctx is checked before every attempt, the first
// included: once it has ended (the leadership term is over) nothing more
// is sent, and the error is cloud.Stopped's, naming action.
func Do[T any](ctx context.Context, pol Policy, action string, fn func(context.Context) (T, error)) (T, error) {
	attempt := 0
	var last error // the retryable answer of the last try
	op := func() (T, error) {
		var zero T
		if err := cloud.Stopped(ctx, action); err != nil {
			return zero, backoff.Permanent(err)
		}
		attempt++
		if pol.Before != nil {
			if err := pol.Before(ctx, action); err != nil {
				return zero, backoff.Permanent(err)
			}
		}
		v, err := fn(ctx)
		cloud.Progress(ctx) // each attempt is a step, failed or not: health tells slow from stuck
		if err == nil {
			return v, nil
		}
		err = pol.Wrap(action, err)
		if !pol.Retryable(err) || ctx.Err() != nil {
			return v, backoff.Permanent(err)
		}
		last = err
		return v, err
	}
	notify := func(err error, wait time.Duration) {
		pol.Log.Warn("retrying cloud call", zap.String("action", action), zap.Int("attempt", attempt),
			zap.String("code", pol.Code(err)), zap.Bool("throttled", pol.Throttled(err)),
			zap.Duration("wait", wait), zap.Error(err))
	}
	v, err := backoff.Retry(ctx, op, backoff.WithBackOff(NewBackOff()),
		backoff.WithMaxElapsedTime(pol.Timeout), backoff.WithNotify(notify))
	if err != nil && last != nil && ctx.Err() != nil && errors.Is(err, context.Cause(ctx)) && !errors.Is(err, last) {
		// ctx ended while waiting to try again: backoff hands back its
		// bare cause, which says nothing of the call.
		return v, fmt.Errorf("%w (after %d tries, the last answered: %w)", cloud.Stopped(ctx, action), attempt, last)
	}
	if err != nil && attempt > 1 && pol.Retryable(err) {
		err = fmt.Errorf("%w (gave up after %d tries)", err, attempt)
	}
	return v, err
}
