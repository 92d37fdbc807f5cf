package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/vpcroute/vpcroute/internal/procstop"
	"github.com/vpcroute/vpcroute/internal/testsupport"
	"github.com/vpcroute/vpcroute/reconciler"
	"github.com/vpcroute/vpcroute/reconciler/registry/etcdtest"
	"github.com/vpcroute/vpcroute/reconciler/status"
)

// These tests run daemons as processes against vpcroute-sim and a real etcd
// (Debian's etcd-server). The daemons leave the host alone
// (--host-config=false, --subnet): what is tested here is the registry,
// the election and the route tables.

const testLeaseTTL = 3 * time.Second

// liveness bounds a wait for something that must happen however loaded the
// machine is; the tests assert events and their order, not speed.
const liveness = 20 * time.Second

type daemonProc struct {
	id, subnet string
	addr       string
	cmd        *exec.Cmd
	out        *lockedBuffer
	done       chan struct{}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startDaemon runs `vpcroute daemon` for instance, claiming subnet.
func (s *simProc) startDaemon(t *testing.T, instance, subnet string, etcd []string, extra ...string) *daemonProc {
	t.Helper()
	return s.startDaemonEnv(t, instance, subnet, etcd, nil, extra...)
}

// startDaemonEnv is startDaemon with more environment variables.
func (s *simProc) startDaemonEnv(t *testing.T, instance, subnet string, etcd, env []string, extra ...string) *daemonProc {
	t.Helper()
	testsupport.SkipIfShort(t, "runs vpcroute daemon processes")
	d := &daemonProc{id: instance, subnet: subnet, addr: freeAddr(t), out: &lockedBuffer{}, done: make(chan struct{})}
	args := []string{"daemon", "--host-config=false", "--cluster-cidr", "10.0.0.0/8",
		"--status-addr", d.addr, "--debounce", "200ms", "--lease-ttl", testLeaseTTL.String(),
		"--heartbeat-interval", "1s", "--silent-after", "4s", "--resync-interval", "3s",
		"--endpoint", s.url, "--metadata-endpoint", s.url + "/sim/v1/instances/" + instance,
		"--cluster-name", "lab", "--config", emptyConfig, "--log-level", "debug", "--cache-dir", t.TempDir()}
	if subnet != "" {
		args = append(args, "--subnet", subnet)
	}
	if len(etcd) > 0 {
		args = append(args, "--etcd-endpoints", strings.Join(etcd, ","))
	}
	d.cmd = exec.Command(filepath.Join(binDir, "vpcroute"), append(args, extra...)...)
	d.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"),
		"ALIBABA_CLOUD_ACCESS_KEY_ID=LTAI-test", "ALIBABA_CLOUD_ACCESS_KEY_SECRET=test-secret"}, env...)
	out := testsupport.WatchChild(t, "daemon "+instance, d.out)
	d.cmd.Stdout, d.cmd.Stderr = out, out
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = d.cmd.Wait(); close(d.done) }()
	t.Cleanup(func() {
		d.kill()
		if t.Failed() {
			t.Logf("daemon %s output:\n%s", instance, d.out.String())
		}
	})
	return d
}

func (d *daemonProc) kill() {
	_ = procstop.Stop(d.cmd.Process, d.done, os.Kill, 0) // a test's cleanup: the daemon's end is not under test
}

// term sends SIGTERM and waits for the exit.
func (d *daemonProc) term(t *testing.T) {
	t.Helper()
	if err := procstop.Stop(d.cmd.Process, d.done, syscall.SIGTERM, 15*time.Second); err != nil {
		t.Fatalf("daemon %s %v", d.id, err)
	}
}

func (d *daemonProc) alive() bool {
	select {
	case <-d.done:
		return false
	default:
		return true
	}
}

// status fetches the daemon's /status.
func (d *daemonProc) status() (status.Document, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return status.Fetch(ctx, d.addr)
}

func (d *daemonProc) get(path string) (int, string) {
	resp, err := http.Get("http://" + d.addr + path)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

// eventually polls cond until it returns nil or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() error) time.Duration {
	t.Helper()
	start := time.Now()
	var err error
	for time.Since(start) < timeout {
		if err = cond(); err == nil {
			return time.Since(start)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: not within %s: %v", what, timeout, err)
	return 0
}

// leaderOf asks every live daemon who leads; they must agree and exactly
// one must say it is itself.
func leaderOf(ds []*daemonProc) (string, error) {
	leader, selves := "", 0
	for _, d := range ds {
		if !d.alive() {
			continue
		}
		doc, err := d.status()
		if err != nil {
			return "", err
		}
		if !doc.Leader.Known {
			return "", fmt.Errorf("%s knows no leader", d.id)
		}
		if leader != "" && doc.Leader.Instance != leader {
			return "", fmt.Errorf("%s says %s leads, another says %s", d.id, doc.Leader.Instance, leader)
		}
		leader = doc.Leader.Instance
		if doc.Leader.IsSelf {
			selves++
		}
	}
	if selves != 1 {
		return "", fmt.Errorf("%d daemons say they lead", selves)
	}
	return leader, nil
}

// wantOwned waits until the owned entries are exactly want (sorted
// "dest>instance:Available").
func (s *simProc) wantOwned(t *testing.T, timeout time.Duration, want ...string) time.Duration {
	t.Helper()
	slices.Sort(want)
	return eventually(t, timeout, "owned entries "+strings.Join(want, " "), func() error {
		got := s.owned(t)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			return fmt.Errorf("owned entries %v", got)
		}
		return nil
	})
}

func byID(ds []*daemonProc, id string) *daemonProc {
	for _, d := range ds {
		if d.id == id {
			return d
		}
	}
	return nil
}

func TestDaemonClusterElectionFailoverAndClaims(t *testing.T) {
	s := startSim(t, "300ms")
	etcd := etcdtest.Start(t)
	ds := []*daemonProc{
		s.startDaemon(t, "i-aaa", "10.0.0.0/24", etcd.Endpoints()),
		s.startDaemon(t, "i-bbb", "10.1.0.0/24", etcd.Endpoints()),
		s.startDaemon(t, "i-h3", "10.3.0.0/24", etcd.Endpoints()),
	}
	took := s.wantOwned(t, 30*time.Second, "10.0.0.0/24>i-aaa:Available", "10.1.0.0/24>i-bbb:Available", "10.3.0.0/24>i-h3:Available")
	t.Logf("three daemons: every route Available %s after start", took)
	var leader string
	eventually(t, 10*time.Second, "one leader that all agree on", func() (err error) { leader, err = leaderOf(ds); return err })
	t.Logf("leader: %s", leader)
	for _, d := range ds {
		if code, body := d.get("/readyz"); code != 200 {
			t.Errorf("%s /readyz: %d %s", d.id, code, body)
		}
		code, body := d.get("/metrics")
		want := "vpcroute_is_leader 0"
		if d.id == leader {
			want = "vpcroute_is_leader 1"
		}
		if code != 200 || !strings.Contains(body, want) || !strings.Contains(body, "vpcroute_registered_hosts 3") {
			t.Errorf("%s /metrics: %d, want %q and 3 registered hosts", d.id, code, want)
		}
	}

	// A new host joins: its route is Available within debounce + Pending.
	h4 := s.startDaemon(t, "i-h4", "10.4.0.0/24", etcd.Endpoints())
	ds = append(ds, h4)
	eventually(t, 10*time.Second, "i-h4 ready", func() error {
		if code, body := h4.get("/readyz"); code != 200 {
			return fmt.Errorf("%d %s", code, body)
		}
		return nil
	})
	took = s.wantOwned(t, 10*time.Second, "10.0.0.0/24>i-aaa:Available", "10.1.0.0/24>i-bbb:Available",
		"10.3.0.0/24>i-h3:Available", "10.4.0.0/24>i-h4:Available")
	t.Logf("new host registered -> its route Available in %s (debounce 200ms, Pending 300ms)", took)

	// An overlapping claim is refused, on both hosts' status, and changes
	// no route.
	h5 := s.startDaemon(t, "i-h5", "10.3.0.0/16", etcd.Endpoints())
	ds = append(ds, h5)
	eventually(t, 10*time.Second, "claim conflict on both hosts' status", func() error {
		for _, d := range []*daemonProc{h5, byID(ds, "i-h3")} {
			doc, err := d.status()
			if err != nil {
				return err
			}
			if len(doc.Host.ClaimConflicts) != 1 || doc.Host.ClaimConflicts[0].Refused.Instance != "i-h5" ||
				doc.Host.ClaimConflicts[0].Holder.Instance != "i-h3" {
				return fmt.Errorf("%s claim conflicts %+v", d.id, doc.Host.ClaimConflicts)
			}
		}
		return nil
	})
	if got := s.owned(t); len(got) != 4 {
		t.Fatalf("the refused claim changed routes: %v", got)
	}
	h5.kill()
	if r := s.vpcroute(t, "i-h5", nil, "sync", "--remove", "--host-config=false", "--cluster-cidr", "10.0.0.0/8",
		"--etcd-endpoints", strings.Join(etcd.Endpoints(), ",")); r.code != 0 {
		t.Fatalf("sync --remove i-h5: %d %s", r.code, r.stderr)
	}

	// Kill the leader: another takes over once its lease expires, and the
	// failover changes no route. How many seconds that takes is measured
	// (logged), not asserted: the lease TTL is the daemon's, the rest is
	// this machine's load.
	before := s.stats(t)
	killed := byID(ds, leader)
	killedAt := time.Now()
	killed.kill()
	var next string
	failover := eventually(t, 2*testLeaseTTL+liveness, "new leader after kill -9", func() (err error) {
		next, err = leaderOf(ds)
		if err == nil && next == killed.id {
			return fmt.Errorf("still %s", next)
		}
		return err
	})
	t.Logf("kill -9 of leader %s: %s took over in %s (lease TTL %s)", killed.id, next, failover, testLeaseTTL)
	// Let the new leader run a few passes, longer than --silent-after: the
	// killed host's instance still exists, so its route stays.
	time.Sleep(time.Until(killedAt.Add(6 * time.Second)))
	after := s.stats(t)
	if w := after.Writes - before.Writes; w != 0 {
		t.Errorf("failover caused %d route writes, want 0", w)
	}
	s.wantOwned(t, time.Second, "10.0.0.0/24>i-aaa:Available", "10.1.0.0/24>i-bbb:Available",
		"10.3.0.0/24>i-h3:Available", "10.4.0.0/24>i-h4:Available")

	// SIGTERM: the leader resigns before it exits (its leader key is gone
	// when the process has ended, long before its lease would expire);
	// routes stay.
	termed := byID(ds, next)
	termAt := time.Now()
	termed.term(t)
	if holder, ok := leaderKeyHolder(t, etcd.Endpoints()); ok && holder == termed.id {
		t.Errorf("%s exited on SIGTERM still holding the leader key: it did not resign", termed.id)
	}
	var third string
	eventually(t, liveness, "new leader after SIGTERM", func() (err error) {
		third, err = leaderOf(ds)
		return err
	})
	t.Logf("SIGTERM of leader %s: %s took over %s after the signal", termed.id, third, time.Since(termAt).Round(time.Millisecond))
	s.wantOwned(t, time.Second, "10.0.0.0/24>i-aaa:Available", "10.1.0.0/24>i-bbb:Available",
		"10.3.0.0/24>i-h3:Available", "10.4.0.0/24>i-h4:Available")

	// The killed host's instance is released: its route goes once the
	// cloud confirms it, and its record with it.
	deleteInstance(t, s, killed.id)
	var gone []string
	for _, o := range []string{"10.0.0.0/24>i-aaa:Available", "10.1.0.0/24>i-bbb:Available", "10.3.0.0/24>i-h3:Available", "10.4.0.0/24>i-h4:Available"} {
		if !strings.Contains(o, ">"+killed.id+":") {
			gone = append(gone, o)
		}
	}
	took = s.wantOwned(t, 15*time.Second, gone...)
	t.Logf("released instance %s: route deleted %s later (silent-after 4s, resync 3s)", killed.id, took)
	eventually(t, 5*time.Second, "record forgotten", func() error {
		doc, err := byID(ds, third).status()
		if err != nil {
			return err
		}
		for _, h := range doc.Hosts {
			if h.Instance == killed.id {
				return fmt.Errorf("%s still registered", killed.id)
			}
		}
		return nil
	})
}

func deleteInstance(t *testing.T, s *simProc, id string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodDelete, s.url+"/sim/v1/instances/"+id, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("delete instance %s: %s", id, resp.Status)
	}
}

// leaderKeyHolder reads the election straight from etcd: the instance of
// the oldest candidate key (the leader's), and whether there is one.
func leaderKeyHolder(t *testing.T, endpoints []string) (string, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := etcdClient(t, endpoints).Get(ctx, "/vpcroute/lab/election/", clientv3.WithFirstCreate()...)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Kvs) == 0 {
		return "", false
	}
	var info struct {
		Instance string `json:"instance"`
	}
	if err := json.Unmarshal(resp.Kvs[0].Value, &info); err != nil {
		t.Fatalf("leader key %s: %v", resp.Kvs[0].Key, err)
	}
	return info.Instance, true
}

// wipeRegistry deletes every key of the lab cluster, as an operator's
// mistake would.
func wipeRegistry(t *testing.T, endpoints []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := etcdClient(t, endpoints).Delete(ctx, "/vpcroute/lab/hosts/", clientv3.WithPrefix()); err != nil {
		t.Fatal(err)
	}
}

func TestDaemonDeletionSafety(t *testing.T) {
	s := startSim(t, "100ms")
	etcd := etcdtest.Start(t)
	ids := []string{"i-aaa", "i-bbb", "i-h3", "i-h4", "i-h5"}
	var ds []*daemonProc
	var want []string
	for i, id := range ids {
		subnet := fmt.Sprintf("10.%d.0.0/24", 10+i)
		ds = append(ds, s.startDaemon(t, id, subnet, etcd.Endpoints()))
		want = append(want, subnet+">"+id+":Available")
	}
	s.wantOwned(t, 30*time.Second, want...)
	var leader string
	eventually(t, 10*time.Second, "leader", func() (err error) { leader, err = leaderOf(ds); return err })
	l := byID(ds, leader)

	// The registry is wiped while every agent is alive: nothing is
	// deleted; the agents write their records again.
	before := s.stats(t)
	wipeRegistry(t, etcd.Endpoints())
	eventually(t, 10*time.Second, "records back", func() error {
		doc, err := l.status()
		if err != nil {
			return err
		}
		if len(doc.Hosts) != 5 {
			return fmt.Errorf("%d hosts", len(doc.Hosts))
		}
		return nil
	})
	time.Sleep(4 * time.Second) // a resync or two
	if w := s.stats(t).Writes - before.Writes; w != 0 {
		t.Errorf("a wiped registry caused %d writes", w)
	}

	// Now four hosts are gone for real (daemon killed, instance released)
	// and the registry is wiped: four of five routes would go at once. The
	// mass-delete guard holds them.
	for _, d := range ds {
		if d.id != leader {
			d.kill()
			deleteInstance(t, s, d.id)
		}
	}
	wipeRegistry(t, etcd.Endpoints())
	eventually(t, 15*time.Second, "mass-delete guard reported", func() error {
		doc, err := l.status()
		if err != nil {
			return err
		}
		if doc.Reconcile == nil || len(doc.Reconcile.Held) != 4 || doc.Reconcile.Held[0].Reason != reconciler.HeldMassDelete {
			return fmt.Errorf("reconcile %+v", doc.Reconcile)
		}
		return nil
	})
	if got := s.owned(t); len(got) != 5 {
		t.Fatalf("routes deleted despite the guard: %v", got)
	}
	// The operator confirms: --allow-mass-delete lets them go.
	l.term(t)
	s.startDaemon(t, leader, byIDSubnet(ds, leader), etcd.Endpoints(), "--allow-mass-delete")
	var mine string
	for _, w := range want {
		if strings.Contains(w, ">"+leader+":") {
			mine = w
		}
	}
	took := s.wantOwned(t, 20*time.Second, mine)
	t.Logf("with --allow-mass-delete the 4 gone hosts' routes went in %s", took)
}

func byIDSubnet(ds []*daemonProc, id string) string { return byID(ds, id).subnet }

func TestDaemonSurvivesEtcdOutage(t *testing.T) {
	s := startSim(t, "100ms")
	etcd := etcdtest.Start(t)
	ds := []*daemonProc{
		s.startDaemon(t, "i-aaa", "10.0.0.0/24", etcd.Endpoints()),
		s.startDaemon(t, "i-bbb", "10.1.0.0/24", etcd.Endpoints()),
	}
	s.wantOwned(t, 30*time.Second, "10.0.0.0/24>i-aaa:Available", "10.1.0.0/24>i-bbb:Available")
	eventually(t, 10*time.Second, "leader", func() error { _, err := leaderOf(ds); return err })
	before := s.stats(t)
	etcd.Stop()
	time.Sleep(3 * testLeaseTTL)
	for _, d := range ds {
		if !d.alive() {
			t.Fatalf("%s exited while etcd was down", d.id)
		}
		if code, body := d.get("/healthz"); code != 200 {
			t.Errorf("%s /healthz while etcd is down: %d %s", d.id, code, body)
		}
		doc, err := d.status()
		if err != nil {
			t.Fatal(err)
		}
		if doc.Leader.IsSelf {
			t.Errorf("%s still leads with etcd down for 3 lease TTLs", d.id)
		}
	}
	if w := s.stats(t).Writes - before.Writes; w != 0 {
		t.Errorf("%d route writes while etcd was down", w)
	}
	etcd.Restart()
	took := eventually(t, 20*time.Second, "leader after etcd is back", func() error { _, err := leaderOf(ds); return err })
	t.Logf("etcd back: a leader again in %s", took)
	s.wantOwned(t, 5*time.Second, "10.0.0.0/24>i-aaa:Available", "10.1.0.0/24>i-bbb:Available")
	if w := s.stats(t).Writes - before.Writes; w != 0 {
		t.Errorf("%d route writes after etcd came back", w)
	}
}

func TestDaemonSelfModeKeepsOnlyItsOwnRoutes(t *testing.T) {
	s := startSim(t, "100ms")
	if r := s.vpcroute(t, "i-bbb", nil, append([]string{"sync"}, routesOnly("10.1.0.0/24")...)...); r.code != 0 {
		t.Fatalf("sync i-bbb: %d %s", r.code, r.stderr)
	}
	d := s.startDaemon(t, "i-aaa", "10.0.0.0/24", nil)
	s.wantOwned(t, 20*time.Second, "10.0.0.0/24>i-aaa:Available", "10.1.0.0/24>i-bbb:Available")
	eventually(t, 5*time.Second, "self-mode status", func() error {
		doc, err := d.status()
		if err != nil {
			return err
		}
		if doc.Mode != status.ModeSelf || !doc.Leader.IsSelf || doc.Reconcile == nil || doc.Reconcile.Result != reconciler.ResultOK {
			return fmt.Errorf("mode %s leader %+v reconcile %+v", doc.Mode, doc.Leader, doc.Reconcile)
		}
		return nil
	})
	// i-bbb's instance goes away: self mode never deletes another host's route.
	deleteInstance(t, s, "i-bbb")
	time.Sleep(4 * time.Second)
	s.wantOwned(t, time.Second, "10.0.0.0/24>i-aaa:Available", "10.1.0.0/24>i-bbb:Available")
	// `vpcroute status` renders the same daemon for a person and for scripts.
	r := s.vpcroute(t, "i-aaa", nil, "status", "--status-addr", d.addr)
	if r.code != 0 || !strings.Contains(r.stdout, "i-aaa") || !strings.Contains(r.stdout, "10.0.0.0/24") {
		t.Errorf("vpcroute status: %d %s %s", r.code, r.stdout, r.stderr)
	}
	r = s.vpcroute(t, "i-aaa", nil, "status", "-o", "json", "--status-addr", d.addr)
	if r.code != 0 || !strings.Contains(r.stdout, `"schemaVersion": "vpcroute.status/v1"`) {
		t.Errorf("vpcroute status -o json: %d %s %s", r.code, r.stdout, r.stderr)
	}
}

func TestDaemonBadInput(t *testing.T) {
	s := startSim(t, "50ms")
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	base := []string{"daemon", "--host-config=false", "--cluster-cidr", "10.0.0.0/8", "--subnet", "10.0.0.0/24"}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"lease too short", []string{"--lease-ttl", "1s"}, "lease-ttl 1s is invalid: expected at least 2s"},
		{"status address taken", []string{"--status-addr", taken.Addr().String()}, "status address " + taken.Addr().String()},
		{"bad etcd endpoint", []string{"--etcd-endpoints", "etcd:2379"}, `etcd-endpoints "etcd:2379" is invalid`},
		{"password without user", []string{"--etcd-endpoints", "http://127.0.0.1:1", "--etcd-password", "hunter2"}, "etcd-username is empty but etcd-password is set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.vpcroute(t, "i-aaa", nil, append(append([]string{}, base...), tt.args...)...)
			if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", r.code, r.stderr, tt.want)
			}
			if strings.Contains(r.stderr, "hunter2") {
				t.Error("the password was printed")
			}
		})
	}
	if st := s.stats(t); st.Writes != 0 {
		t.Errorf("bad input caused %d writes", st.Writes)
	}
}

// TestDaemonNotifiesSystemd: under systemd (Type=notify) the daemon says
// READY once the host is configured and published, pets the watchdog, and
// says STOPPING on SIGTERM.
func TestDaemonNotifiesSystemd(t *testing.T) {
	s := startSim(t, "50ms")
	sock := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	msgs := make(chan string, 64)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, _, err := conn.ReadFromUnix(buf)
			if err != nil {
				close(msgs)
				return
			}
			msgs <- string(buf[:n])
		}
	}()
	d := s.startDaemonEnv(t, "i-aaa", "10.0.0.0/24", nil,
		[]string{"NOTIFY_SOCKET=" + sock, "WATCHDOG_USEC=1000000"})
	want := []string{"READY=1", "WATCHDOG=1", "STOPPING=1"}
	deadline := time.After(15 * time.Second)
	for i, w := range want {
		if w == "STOPPING=1" {
			_ = d.cmd.Process.Signal(syscall.SIGTERM)
		}
	wait:
		for {
			select {
			case m := <-msgs:
				if strings.Contains(m, w) {
					break wait
				}
				if i == 0 && strings.Contains(m, "WATCHDOG=1") {
					continue // a pet may come before READY is read; READY must still come
				}
			case <-deadline:
				t.Fatalf("no %s from the daemon", w)
			}
		}
		if w == "READY=1" {
			// READY means the host's data plane is configured: systemd's
			// start must not wait for the cloud API or etcd (the
			// dependencies /readyz names until they answer).
			doc, err := d.status()
			if err != nil {
				t.Fatal(err)
			}
			if doc.Host.HostConfig.State == "" || doc.Host.HostConfig.LastApplied.IsZero() {
				t.Errorf("READY sent before the first host-config apply: %+v", doc.Host.HostConfig)
			}
		}
	}
	<-d.done
}

// TestDaemonKeepsClaimsWhileDockerIsDown: a daemon restarted while Docker
// does not answer must not publish an empty claim (the leader would delete
// its routes) nor, in self mode, reconcile with one.
func TestDaemonKeepsClaimsWhileDockerIsDown(t *testing.T) {
	s := startSim(t, "100ms")
	etcd := etcdtest.Start(t)
	a := s.startDaemon(t, "i-aaa", "10.0.0.0/24", etcd.Endpoints())
	b := s.startDaemon(t, "i-bbb", "10.1.0.0/24", etcd.Endpoints())
	s.wantOwned(t, 20*time.Second, "10.0.0.0/24>i-aaa:Available", "10.1.0.0/24>i-bbb:Available")
	a.term(t)
	dead := "unix://" + filepath.Join(t.TempDir(), "no-docker.sock")
	restarted := s.startDaemonNoSubnet(t, "i-aaa", dead, etcd.Endpoints())
	time.Sleep(5 * time.Second) // more than a resync with the daemon up
	s.wantOwned(t, time.Second, "10.0.0.0/24>i-aaa:Available", "10.1.0.0/24>i-bbb:Available")
	doc, err := b.status()
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range doc.Hosts {
		if h.Instance == "i-aaa" && (len(h.Subnets) != 1 || h.Subnets[0].Subnet.String() != "10.0.0.0/24") {
			t.Errorf("i-aaa's record lost its claim while Docker is down: %+v", h.Subnets)
		}
	}
	if code, body := restarted.get("/readyz"); code != 503 || !strings.Contains(body, "waiting for docker (down since") {
		t.Errorf("/readyz with Docker down: %d %s", code, body)
	}

	// Self mode: nothing to adopt, so nothing is reconciled until Docker
	// answers; the route made before stays.
	restarted.term(t)
	b.term(t)
	self := s.startDaemonNoSubnet(t, "i-aaa", dead, nil)
	time.Sleep(3 * time.Second)
	s.wantOwned(t, time.Second, "10.0.0.0/24>i-aaa:Available", "10.1.0.0/24>i-bbb:Available")
	self.term(t)
}

// startDaemonNoSubnet runs a daemon that must ask Docker (at dockerHost)
// for its subnets.
func (s *simProc) startDaemonNoSubnet(t *testing.T, instance, dockerHost string, etcd []string) *daemonProc {
	t.Helper()
	d := s.startDaemon(t, instance, "", etcd, "--docker-host", dockerHost)
	return d
}
