package cloud

import "context"

// progressKey is the context key of the progress hook.
type progressKey struct{}

// WithProgress returns a copy of ctx whose long operations report each
// step they make (a call attempt, a batch, a poll) by calling f. A health
// check can then tell a slow operation that keeps moving (a thousand
// routes written one by one under a rate limit) from one that is stuck,
// without every signature on the way carrying a callback.
//
// A hook already on ctx is kept: both are called, the outer one first.
// f must be fast and safe for concurrent use.
func WithProgress(ctx context.Context, f func()) context.Context {
	if f == nil {
		return ctx
	}
	if outer, ok := ctx.Value(progressKey{}).(func()); ok {
		inner := f
		f = func() { outer(); inner() }
	}
	return context.WithValue(ctx, progressKey{}, f)
}

// Progress reports that the operation running under ctx has made a step.
// Without a hook on ctx it does nothing.
func Progress(ctx context.Context) {
	if f, ok := ctx.Value(progressKey{}).(func()); ok {
		f()
	}
}
