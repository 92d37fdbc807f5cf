package aws

import (
	"context"
	"fmt"

	"github.com/vpcroute/vpcroute/cloud/internal/callretry"
)

// The SDK's own retryer is off (aws.NopRetryer on the EC2 client): every
// attempt goes through callRetry, so each one is paced by the mutating
// bucket, seen by the observer (observe.go) and logged, and one backoff
// policy holds for every call.

// callRetry runs one API call, converting SDK errors to *APIError and
// retrying the retryable ones until opts.RetryTimeout or ctx ends. A
// mutating action first waits for a token of the client-side bucket, on
// every attempt: a retry costs EC2 a token as much as the first try.
func callRetry[T any](ctx context.Context, p *Provider, action string, fn func(context.Context) (T, error)) (T, error) {
	return callretry.Do(ctx, callretry.Policy{
		Wrap: wrapSDKError, Retryable: retryable, Code: codeOf, Throttled: throttled,
		Timeout: p.opts.RetryTimeout, Log: p.log,
		Before: func(ctx context.Context, action string) error {
			if !mutating[action] {
				return nil
			}
			if err := p.limiter.Wait(ctx); err != nil {
				return fmt.Errorf("%s: wait for the mutating-call budget (%g/s): %w", action, p.opts.MutatingRate, err)
			}
			return nil
		},
	}, action, fn)
}
