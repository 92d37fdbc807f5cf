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
	ctx, cancel := context.WithTimeout(testCtx(t), 5*time.Second)
	defer cancel()
	l, err := r.Campaign(ctx, me, testTTL)
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
	res := awaitLeader(t, chB, time.Second)
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
	d := closedWithin(t, la, start, time.Second)
	t.Logf("Done closed %s after Close; cause: %v", d, la.Err())
	// Nobody revoked the lease: the follower waits for it to expire.
	res := awaitLeader(t, chB, 2*testTTL+time.Second)
	t.Logf("follower led %s after the old leader vanished (lease TTL %s)", res.at.Sub(start), testTTL)
}

func TestLeadershipLostWhenEtcdDownBeyondTTL(t *testing.T) {
	t.Parallel()
	srv := etcdtest.Start(t)
	ra, _ := openOn(t, srv, nil)
	rb, _ := openOn(t, srv, nil)
	la := mustLead(t, ra, LeaderInfo{Instance: "i-aaa"})
	chB := campaignAsync(testCtx(t), rb, LeaderInfo{Instance: "i-bbb"})
	time.Sleep(200 * time.Millisecond)

	stopped := time.Now()
	srv.Stop()
	// The server's lease lives at least TTL after its last renewal, which
	// was before the stop; the leader must have given up before stop+TTL.
	d := closedWithin(t, la, stopped, testTTL)
	t.Logf("Done closed %s after etcd stopped (TTL %s); cause: %v", d, testTTL, la.Err())
	if !strings.Contains(la.Err().Error(), "lease") {
		t.Fatalf("cause %v does not name the lease", la.Err())
	}

	// Calls time out instead of hanging while etcd is down.
	callStart := time.Now()
	if err := ra.Publish(context.Background(), testHost("i-aaa", "192.168.1.1", "10.1.0.0/24")); err == nil {
		t.Fatal("Publish succeeded with etcd down")
	}
	if _, _, err := rb.Leader(context.Background()); err == nil {
		t.Fatal("Leader succeeded with etcd down")
	}
	if el := time.Since(callStart); el > 5*time.Second {
		t.Fatalf("two calls took %s with etcd down, want each bounded by the 2s request timeout", el)
	}
	assertFollower(t, chB, "i-bbb")

	// etcd comes back (and extends every lease): the old leader revokes
	// its abandoned lease, so the follower need not wait a TTL.
	srv.Restart()
	restarted := time.Now()
	res := awaitLeader(t, chB, 2*testTTL+3*time.Second)
	t.Logf("follower led %s after etcd restarted", res.at.Sub(restarted))
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
	start := time.Now()
	if _, err := rawClient(t, srv).Delete(testCtx(t), l.Key()); err != nil {
		t.Fatal(err)
	}
	closedWithin(t, l, start, time.Second)
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

	ctx, cancel := context.WithTimeout(testCtx(t), 300*time.Millisecond)
	defer cancel()
	_, err := rb.Campaign(ctx, LeaderInfo{Instance: "i-bbb"}, testTTL)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Campaign = %v, want DeadlineExceeded", err)
	}
	// The abandoned candidate's key goes with its revoked lease.
	raw := rawClient(t, srv)
	deadline := time.Now().Add(3 * time.Second)
	for {
		resp, err := raw.Get(testCtx(t), rb.electionPfx, clientv3.WithPrefix(), clientv3.WithCountOnly())
		if err != nil {
			t.Fatal(err)
		}
		if resp.Count == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d election keys 3s after the campaign gave up, want 1", resp.Count)
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
