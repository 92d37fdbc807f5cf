package registry

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
	"go.uber.org/zap"
)

// ErrResigned is the cause of a leadership that ended through Resign.
var ErrResigned = errors.New("leadership resigned")

// Leadership is a won election. It ends, closing Done, when the lease can
// no longer be shown alive (etcd unreachable for about the TTL, lease
// revoked, client closed), when the leader key is deleted, or on Resign.
// Once Done is closed the holder must stop writing routes; another process
// can lead only after that.
type Leadership struct {
	r     *Registry
	info  LeaderInfo
	sess  *concurrency.Session
	lease clientv3.LeaseID
	ttl   time.Duration
	clock *leaseClock
	stop  context.CancelFunc // stops the keep-alives
	key   string
	rev   int64

	ctx    context.Context
	cancel context.CancelCauseFunc
	once   sync.Once
}

// newLeadership starts watching a won election for its end.
func newLeadership(r *Registry, info LeaderInfo, sess *concurrency.Session, lease clientv3.LeaseID,
	ttl time.Duration, clock *leaseClock, stop context.CancelFunc, key string, rev int64) *Leadership {
	ctx, cancel := context.WithCancelCause(context.Background())
	l := &Leadership{r: r, info: info, sess: sess, lease: lease, ttl: ttl, clock: clock, stop: stop,
		key: key, rev: rev, ctx: ctx, cancel: cancel}
	go l.monitor()
	go l.watchKey()
	return l
}

// Done is closed when the leadership has ended.
func (l *Leadership) Done() <-chan struct{} { return l.ctx.Done() }

// Context is cancelled when the leadership ends; derive the contexts of
// leader-only writes from it. context.Cause tells why it ended.
func (l *Leadership) Context() context.Context { return l.ctx }

// Err is nil while leading, then why the leadership ended (ErrResigned
// after Resign).
func (l *Leadership) Err() error { return context.Cause(l.ctx) }

// Info is the campaign value this leadership was won with.
func (l *Leadership) Info() LeaderInfo { return l.info }

// Key is the leader key in etcd.
func (l *Leadership) Key() string { return l.key }

// Resign ends the leadership at once: Done closes first, then the lease is
// revoked, which deletes the leader key so a follower takes over
// immediately. If etcd cannot be reached within ctx (and the request
// timeout) the error says so and the key disappears when the lease
// expires. Resigning twice, or after the leadership was lost, is harmless.
func (l *Leadership) Resign(ctx context.Context) error {
	l.end(ErrResigned)
	if l.r.ctx.Err() != nil {
		return fmt.Errorf("resign leadership of %s: registry closed; followers take over when the lease expires within %s", l.info.Instance, l.ttl)
	}
	if err := l.r.revoke(ctx, l.lease); err != nil {
		return fmt.Errorf("resign leadership of %s: %w; followers take over when the lease expires within %s", l.info.Instance, err, l.ttl)
	}
	l.r.log.Info("resigned leadership", zap.String("instance", l.info.Instance))
	return nil
}

// end closes Done with cause and stops renewing the lease. Every path
// that ends the leadership goes through here, exactly once.
func (l *Leadership) end(cause error) {
	l.once.Do(func() {
		// Done closes before anything else so the holder stops writing
		// before the key can go.
		l.cancel(cause)
		l.stop()
		l.sess.Orphan()
		if !errors.Is(cause, ErrResigned) {
			l.r.log.Warn("leadership lost", zap.String("instance", l.info.Instance), zap.Error(cause))
			// The lease may still live on the server (etcd extends leases
			// when it restarts); revoking it lets a follower lead as soon
			// as etcd is back.
			l.r.revokeLater(l.lease, l.ttl)
		}
	})
}

// monitor ends the leadership when the lease clock or the session ends or
// the registry closes.
func (l *Leadership) monitor() {
	select {
	case <-l.ctx.Done():
	case <-l.clock.ctx.Done():
		l.end(fmt.Errorf("lease %x: %w", l.lease, context.Cause(l.clock.ctx)))
	case <-l.sess.Done():
		l.end(fmt.Errorf("session on lease %x ended", l.lease))
	case <-l.r.ctx.Done():
		l.end(errors.New("registry closed"))
	}
}

// watchKey ends the leadership when the leader key is deleted (by an
// operator, or by the lease's expiry seen before the clock noticed).
func (l *Leadership) watchKey() {
	rev := l.rev + 1
	for l.ctx.Err() == nil {
		wch := l.r.client.Watch(l.ctx, l.key, clientv3.WithRev(rev))
		for resp := range wch {
			if resp.Err() != nil {
				break
			}
			for _, ev := range resp.Events {
				if ev.Type == mvccpb.DELETE {
					l.end(fmt.Errorf("leader key %s deleted at revision %d", l.key, ev.Kv.ModRevision))
					return
				}
			}
			rev = resp.Header.Revision + 1
		}
		if l.ctx.Err() != nil {
			return
		}
		// The watch broke (compaction, stream reset): look at the key
		// itself, then watch again from the revision of that read.
		ctx, cancel := l.r.reqCtx(l.ctx)
		resp, err := l.r.client.Get(ctx, l.key)
		cancel()
		switch {
		case err != nil:
			sleepCtx(l.ctx, l.ctx, watchRetryMin)
		case len(resp.Kvs) == 0 || resp.Kvs[0].CreateRevision != l.rev:
			l.end(fmt.Errorf("leader key %s is gone", l.key))
			return
		default:
			rev = resp.Header.Revision + 1
		}
	}
}
