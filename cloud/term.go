package cloud

import (
	"context"
	"errors"
	"fmt"
)

// A write runs under the context of the leadership term that decided it:
// the reconciler, the providers' write loops and their retries call Stopped
// before every table, batch, attempt and poll, so that a leader deposed in
// the middle of a long converge sends nothing more. A request already on
// the wire is cancelled with the same context.

// Stopped returns nil while ctx is alive. Once ctx has ended it returns an
// error saying that what was not done, wrapping ctx.Err() (errors.Is
// matches context.Canceled or context.DeadlineExceeded) and, when ctx was
// ended with a cause (the reason a leadership was lost), that cause too.
func Stopped(ctx context.Context, what string) error {
	err := ctx.Err()
	if err == nil {
		return nil
	}
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, err) {
		return fmt.Errorf("%s: stopped: %w: %w", what, err, cause)
	}
	return fmt.Errorf("%s: stopped: %w", what, err)
}
