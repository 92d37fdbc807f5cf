package hostcfg

import (
	"context"
	"fmt"

	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
)

// NetworkChanges watches the daemon for events that can change this host's
// container subnets or Docker's NAT rules: networks created or destroyed.
// Each such event sends one notice on the first channel; notices are
// coalesced (a reader that is busy finds one pending notice, not a backlog),
// since the reaction is always the same: discover and Apply again.
//
// The second channel receives the error that ends the stream, typically the
// daemon restarting; a restarted daemon re-inserts its MASQUERADE rules on
// top of POSTROUTING, so callers should Apply after reconnecting too. Both
// channels are closed when the stream ends or ctx is done.
func (d *Docker) NetworkChanges(ctx context.Context) (<-chan struct{}, <-chan error) {
	msgs, errs := d.cli.Events(ctx, events.ListOptions{Filters: filters.NewArgs(
		filters.Arg("type", string(events.NetworkEventType)),
		filters.Arg("event", string(events.ActionCreate)),
		filters.Arg("event", string(events.ActionDestroy)),
	)})
	notices := make(chan struct{}, 1)
	errc := make(chan error, 1)
	go func() {
		defer close(notices)
		defer close(errc)
		for {
			select {
			case <-msgs:
				select {
				case notices <- struct{}{}:
				default: // one notice is already pending
				}
			case err := <-errs:
				if err != nil && ctx.Err() == nil {
					errc <- fmt.Errorf("docker events at %s: %w", d.Host(), err)
				}
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return notices, errc
}
