package registry

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/vpcroute/vpcroute/reconciler/registry/etcdtest"
)

// testTTL is the leader lease in these tests: the shortest allowed, so
// expiry tests stay fast.
const testTTL = MinLeaseTTL

// liveness bounds a wait for something that must happen, however loaded
// the machine: the tests assert the order of events and their causes, not
// how fast the machine is. Where a bound on elapsed time is the property
// itself, the lease TTL is made long enough that it dwarfs the noise.
const liveness = 15 * time.Second

// campaignAsync campaigns in the background; the result arrives on the
// returned channel.
type campaignResult struct {
	l   *Leadership
	err error
	at  time.Time
}

func campaignAsync(ctx context.Context, r *Registry, me LeaderInfo) <-chan campaignResult {
	ch := make(chan campaignResult, 1)
	go func() {
		l, err := r.Campaign(ctx, me, testTTL)
		ch <- campaignResult{l, err, time.Now()}
	}()
	return ch
}

// mustLead campaigns and fails the test unless it wins within 5s.
func mustLead(t *testing.T, r *Registry, me LeaderInfo) *Leadership {
	t.Helper()
	return mustLeadTTL(t, r, me, testTTL)
}

// mustLeadTTL is mustLead on a lease of ttl.
func mustLeadTTL(t *testing.T, r *Registry, me LeaderInfo, ttl time.Duration) *Leadership {
	t.Helper()
	ctx, cancel := context.WithTimeout(testCtx(t), 5*time.Second)
	defer cancel()
	l, err := r.Campaign(ctx, me, ttl)
	if err != nil {
		t.Fatalf("Campaign(%s): %v", me.Instance, err)
	}
	t.Cleanup(func() { _ = l.Resign(context.Background()) })
	return l
}

// assertFollower fails if the campaign has already finished.
func assertFollower(t *testing.T, ch <-chan campaignResult, who string) {
	t.Helper()
	select {
	case res := <-ch:
		t.Fatalf("%s finished campaigning while another leads: err %v", who, res.err)
	default:
	}
}

// awaitLeader waits for a campaign to win.
func awaitLeader(t *testing.T, ch <-chan campaignResult, within time.Duration) campaignResult {
	t.Helper()
	select {
	case res := <-ch:
		if res.err != nil {
			t.Fatalf("Campaign: %v", res.err)
		}
		t.Cleanup(func() { _ = res.l.Resign(context.Background()) })
		return res
	case <-time.After(within):
		t.Fatalf("no leadership within %s", within)
	}
	panic("unreachable")
}

// awaitDone waits for the leadership to end, failing after liveness.
func awaitDone(t *testing.T, l *Leadership) {
	t.Helper()
	select {
	case <-l.Done():
	case <-time.After(liveness):
		t.Fatalf("leadership still open %s later", liveness)
	}
}

// assertEnded fails unless the leadership has already ended.
func assertEnded(t *testing.T, l *Leadership, when string) {
	t.Helper()
	select {
	case <-l.Done():
	default:
		t.Fatalf("leadership of %s still open %s", l.Info().Instance, when)
	}
}

// closedWithin reports how long Done took to close, failing after limit.
func closedWithin(t *testing.T, l *Leadership, since time.Time, limit time.Duration) time.Duration {
	t.Helper()
	select {
	case <-l.Done():
		return time.Since(since)
	case <-time.After(time.Until(since.Add(limit))):
		t.Fatalf("Done not closed %s after the fault", limit)
	}
	panic("unreachable")
}

func TestOneLeaderAndResignHandsOver(t *testing.T) {
	t.Parallel()
	srv := etcdtest.Start(t)
	ra, _ := openOn(t, srv, nil)
	rb, _ := openOn(t, srv, nil)
	ctx := testCtx(t)

	if _, ok, err := rb.Leader(ctx); err != nil || ok {
		t.Fatalf("Leader before any campaign = ok %v, err %v", ok, err)
	}
	a := LeaderInfo{Instance: "i-aaa", StatusAddr: "192.168.1.1:9712"}
	la := mustLead(t, ra, a)
	chB := campaignAsync(ctx, rb, LeaderInfo{Instance: "i-bbb", StatusAddr: "192.168.1.2:9712"})

	time.Sleep(300 * time.Millisecond)
	assertFollower(t, chB, "i-bbb")
	if got, ok, err := rb.Leader(ctx); err != nil || !ok || got != a {
		t.Fatalf("Leader = %+v ok %v err %v, want %+v", got, ok, err, a)
	}
	if la.Info() != a || la.Err() != nil {
		t.Fatalf("leadership Info %+v Err %v", la.Info(), la.Err())
	}

	start := time.Now()
	if err := la.Resign(ctx); err != nil {
		t.Fatalf("Resign: %v", err)
	}
	select {
	case <-la.Done():
	default:
		t.Fatal("Done still open after Resign returned")
	}
	if !errors.Is(la.Err(), ErrResigned) {
		t.Fatalf("Err after Resign = %v, want ErrResigned", la.Err())
	}
	// Resign revoked the lease before returning: the leader key is gone
	// already, so the follower does not wait for the lease to expire.
	if got, ok, err := ra.Leader(ctx); err != nil || (ok && got == a) {
		t.Fatalf("Leader right after Resign returned = %+v ok %v err %v; the resigned key must be gone", got, ok, err)
	}
	res := awaitLeader(t, chB, liveness)
	t.Logf("failover after Resign: %s", res.at.Sub(start))
	if got, _, err := ra.Leader(ctx); err != nil || got.Instance != "i-bbb" {
		t.Fatalf("Leader after handover = %+v, %v; want i-bbb", got, err)
	}
	if err := la.Resign(ctx); err != nil {
		t.Fatalf("second Resign: %v", err)
	}
	select {
	case <-res.l.Done():
		t.Fatalf("new leader lost its leadership: %v", res.l.Err())
	default:
	}
}

func TestLeadershipHeldWhileEtcdIsUp(t *testing.T) {
	t.Parallel()
	srv := etcdtest.Start(t)
	r, _ := openOn(t, srv, nil)
	l := mustLead(t, r, LeaderInfo{Instance: "i-aaa"})
	// Several renewals at the shortest TTL: no false loss.
	select {
	case <-l.Done():
		t.Fatalf("leadership lost with etcd up: %v", l.Err())
	case <-time.After(3 * testTTL):
	}
}

func TestLeadershipEndsWhenClientClosesWithoutResign(t *testing.T) {
	t.Parallel()
	srv := etcdtest.Start(t)
	ra, _ := openOn(t, srv, nil)
	rb, _ := openOn(t, srv, nil)
	la := mustLead(t, ra, LeaderInfo{Instance: "i-aaa"})
	chB := campaignAsync(testCtx(t), rb, LeaderInfo{Instance: "i-bbb"})

	start := time.Now()
	if err := ra.Close(); err != nil {
		t.Fatal(err)
	}
	awaitDone(t, la)
	t.Logf("Done closed %s after Close; cause: %v", time.Since(start), la.Err())
	// Closing ended it, not the lease clock running out a TTL later.
	if errors.Is(la.Err(), errLeaseExpired) {
		t.Fatalf("leadership ended by lease expiry (%v), not by Close", la.Err())
	}
	// Nobody revoked the lease: the follower waits for it to expire, and
	// leads only once the old leadership has ended.
	res := awaitLeader(t, chB, 2*testTTL+liveness)
	assertEnded(t, la, "when the follower won")
	t.Logf("follower led %s after the old leader vanished (lease TTL %s)", res.at.Sub(start), testTTL)
}

func TestLeadershipLostWhenEtcdDownBeyondTTL(t *testing.T) {
	t.Parallel()
	// The leader's lease is long: it must give up within its TTL, and the
	// safety margin it keeps (a fifth of the TTL, at most 2s) must dwarf the
	// scheduling noise of a loaded machine, or this bound would test the
	// machine.
	const leaderTTL = 10 * time.Second
	srv := etcdtest.Start(t)
	ra, _ := openOn(t, srv, nil)
	rb, _ := openOn(t, srv, nil)
	la := mustLeadTTL(t, ra, LeaderInfo{Instance: "i-aaa"}, leaderTTL)
	ctx, cancel := context.WithTimeout(context.Background(), 2*leaderTTL+2*liveness)
	defer cancel()
	chB := campaignAsync(ctx, rb, LeaderInfo{Instance: "i-bbb"})
	time.Sleep(200 * time.Millisecond)

	stopped := time.Now()
	srv.Stop()
	// The server's lease lives at least TTL after its last renewal, which
	// was before the stop; the leader must have given up before stop+TTL.
	d := closedWithin(t, la, stopped, leaderTTL)
	t.Logf("Done closed %s after etcd stopped (TTL %s); cause: %v", d, leaderTTL, la.Err())
	if !strings.Contains(la.Err().Error(), "lease") {
		t.Fatalf("cause %v does not name the lease", la.Err())
	}

	// Calls end with their request timeout instead of hanging while etcd
	// is down: the callers' contexts have no deadline.
	calls := make(chan [2]error, 1)
	go func() {
		perr := ra.Publish(context.Background(), testHost("i-aaa", "192.168.1.1", "10.1.0.0/24"))
		_, _, lerr := rb.Leader(context.Background())
		calls <- [2]error{perr, lerr}
	}()
	select {
	case errs := <-calls:
		for i, what := range []string{"Publish", "Leader"} {
			if !errors.Is(errs[i], context.DeadlineExceeded) {
				t.Errorf("%s with etcd down: %v, want the request timeout (context.DeadlineExceeded)", what, errs[i])
			}
		}
	case <-time.After(liveness):
		t.Fatalf("Publish and Leader with etcd down still running %s later", liveness)
	}
	assertFollower(t, chB, "i-bbb")

	// etcd comes back and extends every lease by its TTL: the follower
	// can lead before restart+TTL only because the old leader revoked its
	// abandoned lease.
	srv.Restart()
	restarted := time.Now()
	res := awaitLeader(t, chB, leaderTTL+liveness)
	t.Logf("follower led %s after etcd restarted", res.at.Sub(restarted))
	if waited := res.at.Sub(restarted); waited >= leaderTTL {
		t.Errorf("follower led %s after etcd restarted, not before the old lease's TTL %s: the abandoned lease was not revoked", waited, leaderTTL)
	}
	select {
	case <-la.Done():
	default:
		t.Fatal("old leadership reopened")
	}
}

func TestLeaderKeyDeletedEndsLeadership(t *testing.T) {
	t.Parallel()
	srv := etcdtest.Start(t)
	r, _ := openOn(t, srv, nil)
	l := mustLead(t, r, LeaderInfo{Instance: "i-aaa"})
	if _, err := rawClient(t, srv).Delete(testCtx(t), l.Key()); err != nil {
		t.Fatal(err)
	}
	// The cause tells the deletion was seen, not some later failure.
	awaitDone(t, l)
	if !strings.Contains(l.Err().Error(), "deleted") {
		t.Fatalf("cause %v, want the key deletion", l.Err())
	}
}

func TestCampaignGivesUpWithContext(t *testing.T) {
	t.Parallel()
	srv := etcdtest.Start(t)
	ra, _ := openOn(t, srv, nil)
	rb, _ := openOn(t, srv, nil)
	mustLead(t, ra, LeaderInfo{Instance: "i-aaa"})

	// The candidate's lease outlives the test: only a revoke removes its key.
	const candidateTTL = time.Minute
	ctx, cancel := context.WithTimeout(testCtx(t), 300*time.Millisecond)
	defer cancel()
	_, err := rb.Campaign(ctx, LeaderInfo{Instance: "i-bbb"}, candidateTTL)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Campaign = %v, want DeadlineExceeded", err)
	}
	// The abandoned candidate's key goes with its revoked lease.
	raw := rawClient(t, srv)
	deadline := time.Now().Add(liveness)
	for {
		resp, err := raw.Get(testCtx(t), rb.electionPfx, clientv3.WithPrefix(), clientv3.WithCountOnly())
		if err != nil {
			t.Fatal(err)
		}
		if resp.Count == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d election keys %s after the campaign gave up, want 1 (its lease lives %s: it must be revoked)", resp.Count, liveness, candidateTTL)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestCampaignRefusesBadArguments(t *testing.T) {
	t.Parallel()
	srv := etcdtest.Start(t)
	r, _ := openOn(t, srv, nil)
	ctx := testCtx(t)
	if _, err := r.Campaign(ctx, LeaderInfo{Instance: "i-a"}, time.Second); err == nil ||
		err.Error() != "leader lease ttl 1s is invalid: expected at least 2s" {
		t.Fatalf("Campaign with 1s TTL: %v", err)
	}
	if _, err := r.Campaign(ctx, LeaderInfo{}, testTTL); err == nil || !strings.HasPrefix(err.Error(), "instance is empty") {
		t.Fatalf("Campaign without instance: %v", err)
	}
	if _, ok, err := r.Leader(ctx); err != nil || ok {
		t.Fatalf("refused campaigns left a leader: ok %v err %v", ok, err)
	}
}
