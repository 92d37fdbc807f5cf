package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
	"go.uber.org/zap"

	"github.com/vpcroute/vpcroute/cloud"
)

// MinLeaseTTL is the shortest leadership lease Campaign accepts. The etcd
// client renews a lease every TTL/3 (checked every 500 ms) and Leadership
// gives up a safety margin before the TTL, so shorter leases would be lost
// without any fault.
const MinLeaseTTL = 2 * time.Second

// LeaderInfo is the campaign value: who leads and where its status is.
type LeaderInfo struct {
	// Instance is the leader's cloud instance ID.
	Instance string `json:"instance"`
	// StatusAddr is where the leader serves /status.
	StatusAddr string `json:"statusAddr,omitempty"`
}

// Campaign blocks until this process is the cluster's leader, then
// returns its Leadership, or until ctx ends. The leadership lives on an
// etcd lease of ttl (rounded up to whole seconds): if the lease cannot be
// kept alive, Done closes before the lease can expire on the server. While
// etcd is unreachable Campaign keeps retrying; it returns an error only
// when ctx ends, the registry is closed, the arguments are invalid, or
// etcd refuses the credentials' permissions.
//
// Campaign reports progress on ctx (cloud.WithProgress): on every attempt;
// while waiting, every ttl that etcd shows another candidate ahead (the
// wait is the election working, not stuck); and, once leading, on every
// renewal of the leadership's lease, for as long as it lasts. It is silent
// for at most MaxCampaignSilence(ttl) while it works.
func (r *Registry) Campaign(ctx context.Context, me LeaderInfo, ttl time.Duration) (*Leadership, error) {
	if err := validateInstance(me.Instance); err != nil {
		return nil, err
	}
	if ttl < MinLeaseTTL {
		return nil, fmt.Errorf("leader lease ttl %s is invalid: expected at least %s", ttl, MinLeaseTTL)
	}
	val, err := json.Marshal(me)
	if err != nil {
		return nil, fmt.Errorf("encode campaign value: %w", err)
	}
	ttlSec := int64(math.Ceil(ttl.Seconds()))
	delay := watchRetryMin
	beat := func() { cloud.Progress(ctx) }
	for {
		beat()
		l, err := r.campaignOnce(ctx, me, string(val), ttlSec, beat)
		if err == nil {
			return l, nil
		}
		switch {
		case ctx.Err() != nil:
			return nil, fmt.Errorf("campaign for leadership as %s: %w", me.Instance, ctx.Err())
		case r.ctx.Err() != nil:
			return nil, fmt.Errorf("campaign for leadership as %s: registry closed", me.Instance)
		case errors.Is(err, rpctypes.ErrPermissionDenied), errors.Is(err, rpctypes.ErrAuthFailed):
			return nil, fmt.Errorf("campaign for leadership as %s: %w", me.Instance, err)
		}
		r.log.Warn("campaign interrupted; retrying", zap.String("instance", me.Instance), zap.Error(err), zap.Duration("retryIn", delay))
		sleepCtx(ctx, r.ctx, delay)
		delay = min(2*delay, ttl)
	}
}

// MaxCampaignSilence is the longest Campaign goes without reporting
// progress while it works, with a lease of ttl: one attempt while etcd is
// away (a grant and a look at the election, each up to a request timeout,
// and the lease running out), then the wait before the next attempt.
func (r *Registry) MaxCampaignSilence(ttl time.Duration) time.Duration {
	return 2*ttl + 2*r.timeout
}

// campaignOnce runs one election attempt on a fresh lease; beat reports
// progress.
func (r *Registry) campaignOnce(ctx context.Context, me LeaderInfo, val string, ttlSec int64, beat func()) (*Leadership, error) {
	// Taken before the grant is sent: the server's lease cannot expire
	// before granted+TTL.
	granted := time.Now()
	gctx, cancel := r.reqCtx(ctx)
	lease, err := r.client.Grant(gctx, ttlSec)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("grant a %ds lease: %w", ttlSec, err)
	}
	ttl := time.Duration(lease.TTL) * time.Second
	kctx, kcancel := context.WithCancel(r.ctx)
	clock, err := startLeaseClock(kctx, r.client, lease.ID, granted, ttl)
	if err != nil {
		kcancel()
		r.revokeLater(lease.ID, ttl)
		return nil, err
	}
	sess, err := concurrency.NewSession(r.client, concurrency.WithLease(lease.ID), concurrency.WithTTL(int(lease.TTL)))
	if err != nil {
		kcancel()
		r.revokeLater(lease.ID, ttl)
		return nil, fmt.Errorf("start session on lease %x: %w", lease.ID, err)
	}
	abandon := func() {
		kcancel()
		sess.Orphan()
		r.revokeLater(lease.ID, ttl)
	}

	el := concurrency.NewElection(sess, r.electionPfx)
	cctx, ccancel := context.WithCancel(ctx)
	defer ccancel()
	// Losing the lease while waiting ends this attempt; the loop retries.
	stopOnLoss := context.AfterFunc(sess.Ctx(), ccancel)
	defer stopOnLoss()
	stopOnExpiry := context.AfterFunc(clock.ctx, ccancel)
	defer stopOnExpiry()

	result := make(chan error, 1)
	go func() { result <- el.Campaign(cctx, val) }()
	observe := time.NewTicker(ttl)
	defer observe.Stop()
	for waiting := true; waiting; {
		select {
		case err = <-result:
			waiting = false
		case <-observe.C:
			if r.behindAnother(cctx, lease.ID) {
				beat()
			}
		case <-cctx.Done():
			// Campaign's own cleanup after a cancel uses the client's context
			// and can block while etcd is down: do not wait for it.
			go func() {
				<-result
				abandon()
			}()
			return nil, fmt.Errorf("campaign on lease %x: %w", lease.ID, context.Cause(cctx))
		}
	}
	if err != nil {
		abandon()
		return nil, fmt.Errorf("campaign on lease %x: %w", lease.ID, err)
	}

	// Campaign only waits for older keys to go; make sure ours survived
	// the wait (the lease may have expired while etcd was away).
	vctx, vcancel := r.reqCtx(ctx)
	resp, err := r.client.Get(vctx, el.Key())
	vcancel()
	switch {
	case err != nil:
		abandon()
		return nil, fmt.Errorf("check leader key %s: %w", el.Key(), err)
	case len(resp.Kvs) == 0 || resp.Kvs[0].CreateRevision != el.Rev() || clientv3.LeaseID(resp.Kvs[0].Lease) != lease.ID:
		abandon()
		return nil, fmt.Errorf("leader key %s vanished during the election", el.Key())
	case clock.ctx.Err() != nil:
		abandon()
		return nil, fmt.Errorf("lease %x not renewed in time during the election", lease.ID)
	}
	clock.onRenew(beat)
	l := newLeadership(r, me, sess, lease.ID, ttl, clock, kcancel, el.Key(), el.Rev())
	r.log.Info("became leader", zap.String("instance", me.Instance), zap.String("key", el.Key()),
		zap.Duration("ttl", ttl))
	return l, nil
}

// behindAnother reports whether etcd shows the election's first key held
// by another lease than ours: waiting is then what the campaign should be
// doing. Our own key first, no key, or no answer is not progress.
func (r *Registry) behindAnother(ctx context.Context, ours clientv3.LeaseID) bool {
	ctx, cancel := r.reqCtx(ctx)
	defer cancel()
	resp, err := r.client.Get(ctx, r.electionPfx, clientv3.WithFirstCreate()...)
	return err == nil && len(resp.Kvs) > 0 && clientv3.LeaseID(resp.Kvs[0].Lease) != ours
}

// Leader returns the current leader's campaign value; false when nobody
// leads. It needs no session, so followers and `vpcroute status` use it.
func (r *Registry) Leader(ctx context.Context) (LeaderInfo, bool, error) {
	ctx, cancel := r.reqCtx(ctx)
	defer cancel()
	resp, err := r.client.Get(ctx, r.electionPfx, clientv3.WithFirstCreate()...)
	if err != nil {
		return LeaderInfo{}, false, fmt.Errorf("read leader under %s: %w", r.electionPfx, err)
	}
	if len(resp.Kvs) == 0 {
		return LeaderInfo{}, false, nil
	}
	var info LeaderInfo
	if err := json.Unmarshal(resp.Kvs[0].Value, &info); err != nil {
		return LeaderInfo{}, false, fmt.Errorf("leader key %s is not valid JSON: %w", resp.Kvs[0].Key, err)
	}
	return info, true, nil
}

// revokeLater revokes a lease this process no longer uses, in the
// background, retrying while etcd is away: an abandoned leader key must
// not make followers wait a whole TTL after etcd returns (etcd extends
// leases when it restarts). Gives up after two TTLs plus slack or when the
// registry closes.
func (r *Registry) revokeLater(id clientv3.LeaseID, ttl time.Duration) {
	go func() {
		deadline := time.Now().Add(2*ttl + 5*time.Second)
		delay := watchRetryMin
		for time.Now().Before(deadline) && r.ctx.Err() == nil {
			if err := r.revoke(r.ctx, id); err == nil {
				return
			}
			sleepCtx(r.ctx, r.ctx, delay)
			delay = min(2*delay, time.Second)
		}
	}()
}

// revoke revokes a lease; a lease already gone counts as revoked.
func (r *Registry) revoke(ctx context.Context, id clientv3.LeaseID) error {
	ctx, cancel := r.reqCtx(ctx)
	defer cancel()
	if _, err := r.client.Revoke(ctx, id); err != nil && !errors.Is(err, rpctypes.ErrLeaseNotFound) {
		return fmt.Errorf("revoke lease %x: %w", id, err)
	}
	return nil
}
