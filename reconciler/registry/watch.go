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

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/reconciler"
)

// Retry pacing of WatchHosts after a failed list or a broken watch.
const (
	watchRetryMin = 100 * time.Millisecond
	watchRetryMax = 5 * time.Second
)

// watchStallAfter is how many progress requests in a row a quiet watch
// may leave unanswered before it is rebuilt.
const watchStallAfter = 3

// errWatchClosed: the watch channel closed without an error (etcd lost its
// leader under WithRequireLeader, or the stream was torn down).
var errWatchClosed = errors.New("watch channel closed")

// errWatchStalled: the watch answered none of several progress requests.
var errWatchStalled = errors.New("watch answers no progress request")

// MaxWatchSilence is the longest WatchHosts goes without reporting
// progress while it works: a quiet watch whose progress requests go
// unanswered until it is rebuilt, the last request blocking for a request
// timeout, then the longest wait before listing again. A host watch
// silent for longer is stuck.
func (r *Registry) MaxWatchSilence() time.Duration {
	return watchStallAfter*r.progressEvery + r.timeout + watchRetryMax
}

// WatchHosts calls fn with the full, sorted host list once at start and
// again after every change (a burst may give several calls; coalescing is
// the caller's job; fn runs on the watch loop, so it should hand the list
// off rather than reconcile in place). It survives etcd restarts and compaction: when the
// watch breaks or its revision was compacted it lists the records again
// and carries on, retrying with backoff while etcd is down. It returns nil
// when ctx ends, and an error only when the registry is closed.
//
// WatchHosts reports progress on ctx (cloud.WithProgress) on every attempt
// and every answer of the watch. A quiet watch asks etcd for a progress
// notification every Options.WatchProgressInterval and is rebuilt when
// several go unanswered, so the loop reports progress at least every
// MaxWatchSilence for as long as it works, whether etcd is up or not.
func (r *Registry) WatchHosts(ctx context.Context, fn func([]reconciler.Host)) error {
	delay := watchRetryMin
	for {
		if ctx.Err() != nil {
			return nil
		}
		if r.ctx.Err() != nil {
			return fmt.Errorf("watch host records: registry closed")
		}
		cloud.Progress(ctx)
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
	// Watch returns once etcd confirms the watch: while etcd is away that
	// would be as long as the outage, with nothing to show for it.
	created := time.AfterFunc(r.timeout, cancel)
	wch := r.client.Watch(wctx, r.hostsPrefix, clientv3.WithPrefix(), clientv3.WithRev(rev+1))
	if !created.Stop() {
		return fmt.Errorf("watch %s from revision %d: etcd did not confirm the watch within %s", r.hostsPrefix, rev+1, r.timeout)
	}
	tick := time.NewTicker(r.progressEvery)
	defer tick.Stop()
	unanswered := 0
	for {
		var resp clientv3.WatchResponse
		var ok bool
		select {
		case resp, ok = <-wch:
		case <-tick.C:
			// A watch stream can hang without closing; only an answer
			// proves it still delivers.
			if unanswered >= watchStallAfter {
				return fmt.Errorf("watch %s from revision %d: %w (%d requests in a row)", r.hostsPrefix, rev+1, errWatchStalled, unanswered)
			}
			unanswered++
			if err := r.requestProgress(wctx); err != nil {
				return fmt.Errorf("watch %s from revision %d: ask for progress: %w", r.hostsPrefix, rev+1, err)
			}
			continue
		}
		if !ok {
			break
		}
		if err := resp.Err(); err != nil {
			return fmt.Errorf("watch %s from revision %d: %w", r.hostsPrefix, rev+1, err)
		}
		unanswered = 0
		cloud.Progress(ctx)
		if len(resp.Events) == 0 {
			continue // a progress notification
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

// requestProgress asks etcd to send the watches of wctx's stream a
// progress notification. wctx must be the watch's own context: the client
// picks the stream by the context's metadata (WithRequireLeader).
func (r *Registry) requestProgress(wctx context.Context) error {
	ctx, cancel := context.WithTimeout(wctx, r.timeout)
	defer cancel()
	return r.client.RequestProgress(ctx)
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
