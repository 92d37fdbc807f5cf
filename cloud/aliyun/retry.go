package aliyun

import (
	"context"

	"github.com/vpcroute/vpcroute/cloud/internal/callretry"
)

// callRetry runs one API call, converting SDK errors to *APIError and
// retrying the retryable ones until opts.RetryTimeout or ctx ends. Each
// attempt is reported to opts.Observer by the observed clients fn calls
// (observe.go), not here, so that a call is counted once with its answer.
func callRetry[T any](ctx context.Context, p *Provider, action string, fn func(context.Context) (T, error)) (T, error) {
	return callretry.Do(ctx, callretry.Policy{
		Wrap: wrapSDKError, Retryable: retryable, Code: codeOf, Throttled: throttled,
		Timeout: p.opts.RetryTimeout, Log: p.log,
	}, action, fn)
}
