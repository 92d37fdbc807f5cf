package main

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/internal/daemon"
	"github.com/vpcroute/vpcroute/reconciler/registry/etcdtest"
)

// holdingProvider holds the first CreateRoutes until released, whatever
// its context says: a call that hangs for good (a connection that never
// answers, a deadlock), not one that is merely slow.
type holdingProvider struct {
	cloud.Provider
	held    chan time.Time // receives when the call was held
	release chan struct{}
	once    sync.Once
}

func (h *holdingProvider) CreateRoutes(ctx context.Context, table string, routes []cloud.Route) error {
	first := false
	h.once.Do(func() { first = true })
	if first {
		h.held <- time.Now()
		<-h.release
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("create routes in %s: %w", table, err)
		}
	}
	return h.Provider.CreateRoutes(ctx, table, routes)
}

// notifySocket listens as systemd's notify socket and counts the watchdog
// pets it receives.
func notifySocket(t *testing.T) (path string, pets func() int) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	var mu sync.Mutex
	n := 0
	go func() {
		buf := make([]byte, 4096)
		for {
			m, _, err := conn.ReadFromUnix(buf)
			if err != nil {
				return
			}
			if strings.Contains(string(buf[:m]), "WATCHDOG=1") {
				mu.Lock()
				n++
				mu.Unlock()
			}
		}
	}()
	return path, func() int { mu.Lock(); defer mu.Unlock(); return n }
}

// startInProcessDaemon runs `vpcroute daemon` with args in this test
// process (it shares the environment: set it with t.Setenv), logging into
// the returned buffer; wrap, if set, wraps its provider.
func startInProcessDaemon(t *testing.T, instance string, args []string, wrap func(cloud.Provider) cloud.Provider) (*daemonProc, *lockedBuffer) {
	t.Helper()
	d := &daemonProc{id: instance, addr: freeAddr(t), out: &lockedBuffer{}, done: make(chan struct{})}
	o, shared := newOptions()
	cmd := newDaemonCommand(o, shared)
	if err := cmd.ParseFlags(append([]string{"--status-addr", d.addr, "--cache-dir", t.TempDir()}, args...)); err != nil {
		t.Fatal(err)
	}
	log := zap.New(zapcore.NewCore(zapcore.NewConsoleEncoder(zap.NewDevelopmentEncoderConfig()), zapcore.AddSync(d.out), zapcore.DebugLevel))
	ctx, cancel := context.WithCancel(context.Background())
	ret := make(chan error, 1)
	go func() { ret <- runDaemonWith(ctx, o, log, daemon.Seams{WrapProvider: wrap}); close(d.done) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-ret:
			if err != nil {
				t.Errorf("in-process daemon %s: %v", instance, err)
			}
		case <-time.After(15 * time.Second):
			t.Errorf("in-process daemon %s did not stop within 15s", instance)
		}
		if t.Failed() {
			t.Logf("daemon %s output:\n%s", instance, d.out.String())
		}
	})
	return d, d.out
}

// TestDaemonStuckReconcilerFailsHealthAndHandsOverLeadership: a leader
// whose pass hangs in a cloud call that never returns is unhealthy once
// the reconciler's allowance has passed: /healthz answers 503 naming the
// loop and since when, systemd's watchdog is no longer petted, and the
// leader resigns so that another daemon leads and writes the routes.
func TestDaemonStuckReconcilerFailsHealthAndHandsOverLeadership(t *testing.T) {
	s := startSim(t, "100ms")
	etcd := etcdtest.Start(t)
	sock, pets := notifySocket(t)
	t.Setenv("NOTIFY_SOCKET", sock)
	t.Setenv("WATCHDOG_USEC", "200000") // a pet every 100 ms while healthy
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI-test")
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "test-secret")

	const allowed = 2 * time.Second
	hold := &holdingProvider{held: make(chan time.Time, 1), release: make(chan struct{})}
	a, logs := startInProcessDaemon(t, "i-aaa", []string{"--host-config=false", "--cluster-cidr", "10.0.0.0/8",
		"--subnet", "10.0.0.0/24", "--debounce", "200ms", "--lease-ttl", testLeaseTTL.String(),
		"--heartbeat-interval", "1s", "--silent-after", "4s", "--resync-interval", "1s",
		"--endpoint", s.url, "--metadata-endpoint", s.url + "/sim/v1/instances/i-aaa",
		"--cluster-name", "lab", "--etcd-endpoints", strings.Join(etcd.Endpoints(), ","),
		"--stuck-after", "reconciler=" + allowed.String()},
		func(p cloud.Provider) cloud.Provider { hold.Provider = p; return hold })
	released := false
	t.Cleanup(func() { // before the daemon's own cleanup waits for it to stop
		if !released {
			close(hold.release)
		}
	})
	var heldAt time.Time
	select {
	case heldAt = <-hold.held:
	case <-time.After(30 * time.Second):
		t.Fatal("i-aaa never led and wrote")
	}
	if code, body := a.get("/healthz"); code != 200 {
		t.Fatalf("/healthz as the pass starts to hang: %d %s", code, body)
	}
	b := s.startDaemon(t, "i-bbb", "10.1.0.0/24", etcd.Endpoints())

	var body string
	eventually(t, 10*allowed, "i-aaa /healthz 503", func() error {
		code, got := a.get("/healthz")
		if code != 503 {
			return fmt.Errorf("%d %s", code, got)
		}
		body = got
		return nil
	})
	took := time.Since(heldAt)
	t.Logf("a hung cloud call failed /healthz %s after it began (allowance %s); body: %s", took.Round(time.Millisecond), allowed, strings.TrimSpace(body))
	if !strings.HasPrefix(body, "loop reconciler stuck: no progress since ") || !strings.Contains(body, "allowed 2s") {
		t.Errorf("/healthz body %q: want the reconciler named, since when and its allowance", body)
	}

	// The watchdog: every tick now refuses to pet. Five refusals after the
	// next five, not one pet more.
	refusals := func() int { return strings.Count(logs.String(), "not petting the systemd watchdog") }
	waitRefusals := func(n int) {
		t.Helper()
		eventually(t, 10*time.Second, fmt.Sprintf("%d watchdog refusals", n), func() error {
			if got := refusals(); got < n {
				return fmt.Errorf("%d refusals", got)
			}
			return nil
		})
	}
	waitRefusals(5)
	before := pets()
	waitRefusals(refusals() + 5)
	if after := pets(); after != before || before == 0 {
		t.Errorf("watchdog pets: %d before the stuck loop's refusals, %d after five more; want some before and none after", before, after)
	}

	// Leadership passes to i-bbb, which writes both hosts' routes.
	eventually(t, 4*testLeaseTTL, "i-bbb leads", func() error {
		doc, err := b.status()
		if err != nil {
			return err
		}
		if !doc.Leader.IsSelf {
			return fmt.Errorf("leader %+v", doc.Leader)
		}
		return nil
	})
	t.Logf("i-bbb leads %s after the call hung", time.Since(heldAt).Round(time.Millisecond))
	s.wantOwned(t, 15*time.Second, "10.0.0.0/24>i-aaa:Available", "10.1.0.0/24>i-bbb:Available")
	if !strings.Contains(logs.String(), "reconcile loop stuck; resigning leadership so that another host can lead") {
		t.Error("i-aaa did not say in its log that it resigned for its stuck loop")
	}
	doc, err := a.status()
	if err != nil {
		t.Fatal(err)
	}
	if doc.Leader.IsSelf || len(doc.Loops) == 0 || doc.Loops[0].Name != daemon.LoopReconciler || !doc.Loops[0].Stuck {
		t.Errorf("i-aaa's status after resigning: leader %+v, loops %+v", doc.Leader, doc.Loops)
	}

	// The hung call returns: its term is over, so it writes nothing; the
	// loop ends and i-aaa is healthy again, a follower.
	writes := s.stats(t).Writes
	close(hold.release)
	released = true
	eventually(t, 10*time.Second, "i-aaa healthy again", func() error {
		if code, body := a.get("/healthz"); code != 200 {
			return fmt.Errorf("%d %s", code, body)
		}
		return nil
	})
	if w := s.stats(t).Writes - writes; w != 0 {
		t.Errorf("the deposed leader's released call made %d writes", w)
	}
	if l, err := leaderOf([]*daemonProc{a, b}); err != nil || l != "i-bbb" {
		t.Errorf("leader after i-aaa recovered: %q, %v; want i-bbb", l, err)
	}
}

// TestAWSDaemonLongConvergeStaysHealthy: a converge that takes much longer
// than the reconciler's allowance but keeps making progress (EC2 takes one
// route per call, paced at 5 calls/s: 1 000 routes take over three minutes)
// never fails /healthz.
func TestAWSDaemonLongConvergeStaysHealthy(t *testing.T) {
	s := startAWSSim(t)
	// 30 subnets: a host record may claim at most reconciler.MaxClaimsPerHost.
	const routes, allowed = 30, 2500 * time.Millisecond
	// startDaemonEnv's flags, AWS's where they differ (the last one wins).
	args := []string{"--provider", "aws", "--metadata-endpoint", s.imds[awsA], "--resync-interval", "1s",
		"--mutating-rate", "4", "--mutating-burst", "1", "--stuck-after", "reconciler=" + allowed.String()}
	for i := range routes {
		args = append(args, "--subnet", fmt.Sprintf("10.0.%d.0/24", i))
	}
	d := s.startDaemonEnv(t, awsA, "", nil, awsEnv(), args...)

	// Poll /healthz all through the converge: never 503.
	checks := 0
	eventually(t, 60*time.Second, fmt.Sprintf("%d routes active", routes), func() error {
		if code, body := d.get("/healthz"); code != 200 && code != 0 {
			t.Fatalf("/healthz during a progressing converge: %d %s", code, body)
		}
		checks++
		if got := len(s.ownedAWS(t)); got != routes {
			return fmt.Errorf("%d routes", got)
		}
		return nil
	})
	doc, err := d.status()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range doc.Loops {
		if l.Stuck || (l.Name == daemon.LoopReconciler && l.Allowance != allowed) {
			t.Errorf("loops after a progressing converge: %+v", doc.Loops)
		}
	}
	// The converge was one pass, far longer than the allowance: the
	// histogram counts the passes of more than 2 × 2.5 s.
	_, metrics := d.get("/metrics")
	long := metricValue(t, metrics, `vpcroute_reconcile_duration_seconds_count{result="ok"}`) -
		metricValue(t, metrics, `vpcroute_reconcile_duration_seconds_bucket{result="ok",le="5"}`)
	t.Logf("%d routes at 4 writes/s: %d pass(es) over 5 s (reconciler allowance %s); /healthz 200 at all %d checks",
		routes, int(long), allowed, checks)
	if long < 1 {
		t.Errorf("no pass took over 5 s: the converge is too short to show anything against an allowance of %s", allowed)
	}
	if code, body := d.get("/healthz"); code != 200 {
		t.Errorf("/healthz after the converge: %d %s", code, body)
	}
}

// metricValue returns the value of the exposition line starting with
// series.
func metricValue(t *testing.T, exposition, series string) float64 {
	t.Helper()
	for _, line := range strings.Split(exposition, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			var v float64
			if _, err := fmt.Sscan(rest, &v); err != nil {
				t.Fatalf("metric %s: %q: %v", series, rest, err)
			}
			return v
		}
	}
	t.Fatalf("metric %s not exposed:\n%s", series, exposition)
	return 0
}

// A bad --stuck-after is bad input: exit 2, one line naming it, nothing
// written; the config file and the environment take the same values.
func TestDaemonStuckAfterBadInput(t *testing.T) {
	s := startSim(t, "50ms")
	base := []string{"daemon", "--host-config=false", "--cluster-cidr", "10.0.0.0/8", "--subnet", "10.0.0.0/24"}
	r := s.vpcroute(t, "i-aaa", nil, append(base, "--stuck-after", "watch=1m")...)
	if r.code != 2 || !strings.Contains(r.stderr, `stuck-after "watch=1m" is invalid: expected loop=duration with loop one of agent, election, reconciler, registry`) {
		t.Errorf("--stuck-after watch=1m: exit %d, stderr %q", r.code, r.stderr)
	}
	r = s.vpcroute(t, "i-aaa", []string{"VPCROUTE_STUCK_AFTER=reconciler=10m,agent=soon"}, base...)
	if r.code != 2 || !strings.Contains(r.stderr, `stuck-after "agent=soon" is invalid: expected a positive duration for agent`) {
		t.Errorf("VPCROUTE_STUCK_AFTER with a bad entry: exit %d, stderr %q", r.code, r.stderr)
	}
	if st := s.stats(t); st.Writes != 0 {
		t.Errorf("bad input caused %d writes", st.Writes)
	}
}
