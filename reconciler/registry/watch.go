package registry

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/vpcroute/vpcroute/reconciler"
)

// Retry pacing of WatchHosts after a failed list or a broken watch.
const (
	watchRetryMin = 100 * time.Millisecond
	watchRetryMax = 5 * time.Second
)

// errWatchClosed: the watch channel closed without an error (etcd lost its
// leader under WithRequireLeader, or the stream was torn down).
var errWatchClosed = errors.New("watch channel closed")

// WatchHosts calls fn with the full, sorted host list once at start and
// again after every change (a burst may give several calls; coalescing is
// the caller's job; fn runs on the watch loop, so it should hand the list
// off rather than reconcile in place). It survives etcd restarts and compaction: when the
// watch breaks or its revision was compacted it lists the records again
// and carries on, retrying with backoff while etcd is down. It returns nil
// when ctx ends, and an error only when the registry is closed.
func (r *Registry) WatchHosts(ctx context.Context, fn func([]reconciler.Host)) error {
	delay := watchRetryMin
	for {
		if ctx.Err() != nil {
			return nil
		}
		if r.ctx.Err() != nil {
			return fmt.Errorf("watch host records: registry closed")
		}
		hosts, rev, err := r.Hosts(ctx)
		if err == nil {
			fn(hosts)
			start := time.Now()
			err = r.followHosts(ctx, hosts, rev, fn)
			if time.Since(start) > watchRetryMax {
				delay = watchRetryMin // the watch worked for a while
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, rpctypes.ErrCompacted) {
			r.log.Info("host watch compacted; listing again", zap.Error(err))
		} else {
			r.log.Warn("host watch interrupted; retrying", zap.Error(err), zap.Duration("retryIn", delay))
		}
		if !sleepCtx(ctx, r.ctx, delay) {
			continue // the loop head reports which context ended
		}
		delay = min(2*delay, watchRetryMax)
	}
}

// followHosts applies watch events from rev+1 on to the listed hosts and
// calls fn after each batch of changes. It returns when the watch fails or
// closes; the caller lists again.
func (r *Registry) followHosts(ctx context.Context, hosts []reconciler.Host, rev int64, fn func([]reconciler.Host)) error {
	// WithRequireLeader closes the watch when the member loses its leader,
	// instead of silently serving a stale view.
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	stop := context.AfterFunc(r.ctx, cancel)
	defer stop()

	state := make(map[string]reconciler.Host, len(hosts))
	for _, h := range hosts {
		state[h.Instance] = h
	}
	wch := r.client.Watch(wctx, r.hostsPrefix, clientv3.WithPrefix(), clientv3.WithRev(rev+1))
	for resp := range wch {
		if err := resp.Err(); err != nil {
			return fmt.Errorf("watch %s from revision %d: %w", r.hostsPrefix, rev+1, err)
		}
		if len(resp.Events) == 0 {
			continue
		}
		for _, ev := range resp.Events {
			instance := strings.TrimPrefix(string(ev.Kv.Key), r.hostsPrefix)
			if ev.Type == mvccpb.DELETE {
				delete(state, instance)
				continue
			}
			// As in Hosts: a bad record is passed on with its Problem,
			// for the leader to refuse and report.
			state[instance] = r.decodeHost(ev.Kv)
		}
		rev = resp.Header.Revision
		out := make([]reconciler.Host, 0, len(state))
		for _, h := range state {
			out = append(out, h)
		}
		sortHosts(out)
		fn(out)
	}
	if err := wctx.Err(); err != nil {
		return err
	}
	return errWatchClosed
}

// sleepCtx waits d; false when either context ends first.
func sleepCtx(a, b context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-a.Done():
		return false
	case <-b.Done():
		return false
	}
}
