package registry

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// leaseClock tracks, on this side, how long a lease is certainly alive on
// the server. The etcd client only notices a dead lease up to a second
// after its TTL; a leader must stop before the server lets anybody else
// lead, so the clock expires a safety margin early.
type leaseClock struct {
	ttl    time.Duration
	margin time.Duration

	mu      sync.Mutex
	renewed time.Time // a time at or before the server's last renewal
	renew   func()    // told about every renewal (nil: nobody)

	// ctx ends when the lease is no longer known to be alive: the
	// deadline passed, or the keep-alive channel closed (lease revoked,
	// client closed, or the client gave up).
	ctx    context.Context
	cancel context.CancelCauseFunc
}

// errLeaseExpired is the cause when no renewal arrived in time.
var errLeaseExpired = errors.New("lease not renewed before its deadline")

// safetyMargin is how much earlier than the TTL a lease is considered
// gone: a fifth of the TTL, between 200 ms and 2 s. It covers the one-way
// delay of the renewal's answer and timer slack.
func safetyMargin(ttl time.Duration) time.Duration {
	return min(max(ttl/5, 200*time.Millisecond), 2*time.Second)
}

// startLeaseClock opens a keep-alive channel of its own on lease id (the
// client sends one renewal per lease whatever the number of listeners)
// and runs the clock until ctx ends. granted must be taken before the
// grant request was sent.
func startLeaseClock(ctx context.Context, client *clientv3.Client, id clientv3.LeaseID, granted time.Time, ttl time.Duration) (*leaseClock, error) {
	cctx, cancel := context.WithCancelCause(ctx)
	c := &leaseClock{ttl: ttl, margin: safetyMargin(ttl), renewed: granted, ctx: cctx, cancel: cancel}
	ch, err := client.KeepAlive(cctx, id)
	if err != nil {
		cancel(err)
		return nil, fmt.Errorf("keep lease %x alive: %w", id, err)
	}
	go c.drain(ch)
	go c.watchdog()
	return c, nil
}

// drain records every renewal at the moment it arrives. The answer comes
// after the server renewed, so the recorded time is a little late; the
// margin absorbs that.
func (c *leaseClock) drain(ch <-chan *clientv3.LeaseKeepAliveResponse) {
	for range ch {
		c.mu.Lock()
		c.renewed = time.Now()
		f := c.renew
		c.mu.Unlock()
		if f != nil {
			f()
		}
	}
	c.cancel(errors.New("lease keep-alive ended (lease revoked or expired, or client closed)"))
}

// onRenew has f called after every renewal from now on.
func (c *leaseClock) onRenew(f func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.renew = f
}

// deadline is when the lease stops being certainly alive.
func (c *leaseClock) deadline() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.renewed.Add(c.ttl - c.margin)
}

// watchdog ends the clock's context once the deadline passes without a
// renewal.
func (c *leaseClock) watchdog() {
	for {
		wait := time.Until(c.deadline())
		if wait <= 0 {
			c.cancel(errLeaseExpired)
			return
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-c.ctx.Done():
			t.Stop()
			return
		}
	}
}
