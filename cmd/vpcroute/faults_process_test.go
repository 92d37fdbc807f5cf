package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/cloud/sim"
	"github.com/vpcroute/vpcroute/reconciler/registry/etcdtest"
)

// The fault suite of issue 11: the cloud API or a daemon fails under a
// running cluster, and nothing owned is lost, nothing unowned is touched,
// and the cluster converges once the fault ends. Each test logs its
// figures for RELIABILITY.md.

// faultDurationEnv sets how long TestFaultCloudAPIErrorsThenRecovers keeps
// the cloud API failing: 10 s in `make test`, 2m in `make faults`.
const faultDurationEnv = "VPCROUTE_FAULT_DURATION"

func faultDuration(t *testing.T) time.Duration {
	t.Helper()
	v := os.Getenv(faultDurationEnv)
	if v == "" {
		return 10 * time.Second
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 2*time.Second {
		t.Fatalf("%s %q is invalid: expected a duration of at least 2s such as 2m", faultDurationEnv, v)
	}
	return d
}

// send makes an admin request to the simulator and fails the test unless
// it answers 200.
func (s *simProc) send(t *testing.T, method, path, body string) {
	t.Helper()
	req, err := http.NewRequest(method, s.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
}

// deletions counts the delete calls of st, whatever their outcome.
func deletions(st sim.Stats) int {
	return st.Calls("DeleteRouteEntry") + st.Calls("DeleteRouteEntries")
}

// createdOK counts the successful create calls of st.
func createdOK(st sim.Stats) int {
	return st.Count("CreateRouteEntry", "ok") + st.Count("CreateRouteEntries", "ok")
}

// missingOwned returns the entries of want ("dest>instance") the simulator
// does not hold, whatever their status.
func (s *simProc) missingOwned(t *testing.T, want []string) []string {
	t.Helper()
	var missing []string
	got := strings.Join(s.owned(t), " ") + " "
	for _, w := range want {
		if !strings.Contains(got, w+":") {
			missing = append(missing, w)
		}
	}
	return missing
}

// checkUnowned fails the test unless the simulator's unowned entries are
// byte for byte the ones given.
func (s *simProc) checkUnowned(t *testing.T, before []sim.Entry) {
	t.Helper()
	if b, a := mustJSON(t, before), mustJSON(t, unowned(s.entries(t))); b != a {
		t.Errorf("unowned entries changed:\nbefore %s\nafter  %s", b, a)
	}
}

// TestFaultCloudAPIErrorsThenRecovers: under a running two-host cluster the
// cloud API answers every call with 503 ServiceUnavailable for half of the
// fault's duration, then with Throttling.User for the other half; a third
// host starts in the middle of it. No daemon exits or fails /healthz, no
// route is deleted, and once the API answers again the third host is
// identified, registered and routed, with exactly one create.
func TestFaultCloudAPIErrorsThenRecovers(t *testing.T) {
	dur := faultDuration(t)
	s := startSim(t, "100ms")
	etcd := etcdtest.Start(t)
	ds := []*daemonProc{
		s.startDaemon(t, "i-aaa", "10.0.0.0/24", etcd.Endpoints()),
		s.startDaemon(t, "i-bbb", "10.1.0.0/24", etcd.Endpoints()),
	}
	kept := []string{"10.0.0.0/24>i-aaa", "10.1.0.0/24>i-bbb"}
	s.wantOwned(t, 30*time.Second, "10.0.0.0/24>i-aaa:Available", "10.1.0.0/24>i-bbb:Available")
	eventually(t, liveness, "leader", func() error { _, err := leaderOf(ds); return err })
	unownedBefore := unowned(s.entries(t))
	before := s.stats(t)

	s.send(t, http.MethodPost, "/sim/v1/faults", `{"action":"*","code":"ServiceUnavailable"}`)
	faultAt := time.Now()
	h3 := s.startDaemon(t, "i-h3", "10.3.0.0/24", etcd.Endpoints())
	ds = append(ds, h3)
	eventually(t, liveness, "i-h3 serving its status", func() error {
		if code, body := h3.get("/healthz"); code == 0 {
			return fmt.Errorf("%s", body)
		}
		return nil
	})
	throttled := false
	checks, unhealthy := 0, 0
	for time.Since(faultAt) < dur {
		if !throttled && time.Since(faultAt) >= dur/2 {
			s.send(t, http.MethodDelete, "/sim/v1/faults", "")
			s.send(t, http.MethodPost, "/sim/v1/faults", `{"action":"*","code":"Throttling.User","message":"Request was denied due to user flow control."}`)
			throttled = true
		}
		for _, d := range ds {
			if !d.alive() {
				t.Fatalf("%s exited while the cloud API failed", d.id)
			}
			if code, body := d.get("/healthz"); code != 200 {
				unhealthy++
				t.Errorf("%s /healthz while the cloud API fails: %d %s", d.id, code, body)
			}
		}
		if missing := s.missingOwned(t, kept); len(missing) > 0 {
			t.Fatalf("owned routes gone while the cloud API failed: %v", missing)
		}
		checks++
		time.Sleep(500 * time.Millisecond)
	}
	during := s.stats(t)
	if code, body := h3.get("/readyz"); code != 503 || !strings.Contains(body, "cloud") {
		t.Errorf("i-h3 /readyz with the cloud API failing: %d %s, want 503 naming the cloud", code, body)
	}
	s.send(t, http.MethodDelete, "/sim/v1/faults", "")
	took := s.wantOwned(t, 60*time.Second, "10.0.0.0/24>i-aaa:Available", "10.1.0.0/24>i-bbb:Available", "10.3.0.0/24>i-h3:Available")
	after := s.stats(t)
	t.Logf("cloud API failing for %s (503, then throttling): %d calls refused, /healthz checked %d times on 3 daemons, %d not 200",
		dur, during.Total-before.Total, checks, unhealthy)
	t.Logf("API back -> the new host's route Available %s later; %d successful creates, %d deletions, %d write calls in all",
		took.Round(time.Millisecond), createdOK(after)-createdOK(before), deletions(after)-deletions(before), after.Writes-before.Writes)
	if n := createdOK(after) - createdOK(before); n != 1 {
		t.Errorf("%d successful create calls, want 1 (i-h3's route)", n)
	}
	if n := deletions(after) - deletions(before); n != 0 {
		t.Errorf("%d delete calls during or after the fault, want 0", n)
	}
	s.checkUnowned(t, unownedBefore)
}

// TestFaultSimulatorRestartedEmpty: the cloud loses vpcroute's routes (the
// simulator is restarted with only its topology). The leader's resync
// finds them missing and creates them again: exactly the two, nothing
// deleted, the unowned entries as the topology has them.
func TestFaultSimulatorRestartedEmpty(t *testing.T) {
	addr := freeAddr(t)
	s := startSimAt(t, "100ms", addr)
	etcd := etcdtest.Start(t)
	ds := []*daemonProc{
		s.startDaemon(t, "i-aaa", "10.0.0.0/24", etcd.Endpoints()),
		s.startDaemon(t, "i-bbb", "10.1.0.0/24", etcd.Endpoints()),
	}
	s.wantOwned(t, 30*time.Second, "10.0.0.0/24>i-aaa:Available", "10.1.0.0/24>i-bbb:Available")
	var leader string
	eventually(t, liveness, "leader", func() (err error) { leader, err = leaderOf(ds); return err })
	unownedBefore := unowned(s.entries(t))

	s.kill()
	time.Sleep(2 * time.Second) // the daemons see the API gone for a moment
	s = startSimAt(t, "100ms", addr)
	restarted := time.Now()
	if got := s.owned(t); len(got) != 0 {
		t.Fatalf("precondition: the restarted simulator holds %v", got)
	}
	took := s.wantOwned(t, 60*time.Second, "10.0.0.0/24>i-aaa:Available", "10.1.0.0/24>i-bbb:Available")
	st := s.stats(t)
	t.Logf("simulator restarted empty: leader %s recreated both routes, Available %s after the restart (resync 3s); %d successful creates, %d deletions",
		leader, took.Round(time.Millisecond), createdOK(st), deletions(st))
	// A resync more: nothing else is written.
	time.Sleep(time.Until(restarted.Add(took + 4*time.Second)))
	st = s.stats(t)
	if n := createdOK(st); n < 1 || n > 2 {
		t.Errorf("%d successful create calls, want the two routes in one or two calls: %v", n, st.Actions)
	}
	if st.Writes != st.Calls("CreateRouteEntry")+st.Calls("CreateRouteEntries") || deletions(st) != 0 {
		t.Errorf("writes other than the two creates: %v", st.Actions)
	}
	s.checkUnowned(t, unownedBefore)
}

// TestFaultDaemonKilledMidApply: the leader is SIGKILLed while it creates
// 60 routes (batches of at most 50, each Pending 8 s before the next:
// longer than the lease, so the next leader reads them Pending), and it is
// restarted. The cloud holds part of them at the kill; the next leader
// creates exactly the rest: each destination once, every one Available,
// no delete, and no further write once converged.
func TestFaultDaemonKilledMidApply(t *testing.T) {
	c := startManyRoutes(t, 8*time.Second)
	s, etcd, ds, want, unownedBefore, leader := c.s, c.etcd, c.ds, c.want, c.unownedBefore, c.leader
	l := byID(ds, leader)
	l.kill()
	other := byID(ds, otherOf(leader))
	otherMark := len(other.out.String())
	atKill := s.owned(t)
	pending := 0
	for _, o := range atKill {
		if strings.HasSuffix(o, ":Pending") {
			pending++
		}
	}
	if len(atKill) == 0 || len(atKill) >= len(want) {
		t.Fatalf("precondition: the kill missed the apply: %d of %d routes in the cloud", len(atKill), len(want))
	}
	t.Logf("SIGKILL of leader %s mid-apply: %d of %d routes in the cloud (%d Pending)", leader, len(atKill), len(want), pending)
	before := s.stats(t)

	restarted := s.startDaemon(t, leader, "", etcd.Endpoints(), manySubnets(map[string]int{"i-aaa": 0, "i-bbb": 1}[leader], 30)...)
	ds = []*daemonProc{other, restarted}
	took := s.wantOwned(t, 90*time.Second, want...)
	var next string
	eventually(t, liveness, "leader after the restart", func() (err error) { next, err = leaderOf(ds); return err })
	time.Sleep(4 * time.Second) // a resync more: nothing else is written
	after := s.stats(t)
	t.Logf("converged %s after the kill (lease TTL %s, Pending 8s); next leader %s; %d create calls (%d ok), %d deletions",
		took.Round(time.Millisecond), testLeaseTTL, next,
		after.Calls("CreateRouteEntry")+after.Calls("CreateRouteEntries")-before.Calls("CreateRouteEntry")-before.Calls("CreateRouteEntries"),
		createdOK(after)-createdOK(before), deletions(after))
	if n := deletions(after); n != 0 {
		t.Errorf("%d delete calls, want 0", n)
	}
	if n := createdOK(after) - createdOK(before); n < 1 || n > 2 {
		t.Errorf("%d successful create calls after the restart, want one or two batches for the %d missing routes: %v",
			n, len(want)-len(atKill), after.Actions)
	}
	// The plan after the restart saw the Pending entries: no create call
	// the daemons logged names more than the missing routes.
	if n := max(largestCreate(t, other.out.String()[otherMark:]), largestCreate(t, restarted.out.String())); n != len(want)-len(atKill) {
		t.Errorf("the largest create call after the restart named %d routes, want the %d missing", n, len(want)-len(atKill))
	}
	s.checkNoDuplicates(t)
	s.checkUnowned(t, unownedBefore)
}

// manySubnets are --subnet flags for n /24s 10.<second>.0-n.0/24.
func manySubnets(second, n int) []string {
	var args []string
	for i := range n {
		args = append(args, "--subnet", fmt.Sprintf("10.%d.%d.0/24", second, i))
	}
	return args
}

// manyWant are the Available entries of manySubnets(0, n) on i-aaa and
// manySubnets(1, n) on i-bbb, as wantOwned takes them.
func manyWant(n int) []string {
	var want []string
	for i := range n {
		want = append(want, fmt.Sprintf("10.0.%d.0/24>i-aaa:Available", i), fmt.Sprintf("10.1.%d.0/24>i-bbb:Available", i))
	}
	return want
}

// manyRoutes is a cluster of two daemons converging 60 routes, 30 each
// (manyWant(30)), seen at the leader's first successful create call.
type manyRoutes struct {
	s             *simProc
	etcd          *etcdtest.Server
	ds            []*daemonProc
	want          []string
	unownedBefore []sim.Entry
	leader        string
}

// startManyRoutes starts the simulator with each new route Pending for
// pending, etcd and the two daemons, and returns once the simulator has
// answered a create call with success, with the leader the daemons agree
// on then.
func startManyRoutes(t *testing.T, pending time.Duration) manyRoutes {
	t.Helper()
	c := manyRoutes{s: startSim(t, pending.String()), etcd: etcdtest.Start(t), want: manyWant(30)}
	c.ds = []*daemonProc{
		c.s.startDaemon(t, "i-aaa", "", c.etcd.Endpoints(), manySubnets(0, 30)...),
		c.s.startDaemon(t, "i-bbb", "", c.etcd.Endpoints(), manySubnets(1, 30)...),
	}
	c.unownedBefore = unowned(c.s.entries(t))
	eventually(t, 60*time.Second, "the leader's first create call", func() (err error) {
		if createdOK(c.s.stats(t)) == 0 {
			return fmt.Errorf("no create yet")
		}
		c.leader, err = leaderOf(c.ds)
		return err
	})
	return c
}

// checkNoDuplicates fails the test when a destination appears twice in
// the simulator's route tables.
func (s *simProc) checkNoDuplicates(t *testing.T) {
	t.Helper()
	var dests []string
	for _, e := range s.entries(t) {
		dests = append(dests, e.Destination)
	}
	slices.Sort(dests)
	if c := slices.Compact(slices.Clone(dests)); len(c) != len(dests) {
		t.Errorf("duplicate destinations in the route table: %v", dests)
	}
}

func otherOf(id string) string {
	if id == "i-aaa" {
		return "i-bbb"
	}
	return "i-aaa"
}

// createdCount finds the count field of "creating routes" log lines.
var createdCount = regexp.MustCompile(`creating routes\s.*"count": (\d+)`)

// largestCreate is the most routes one create call in a daemon's log
// named: count of a "creating routes" line, 1 for a "creating route"
// line (a retried call is logged again with what it re-sends).
func largestCreate(t *testing.T, log string) int {
	t.Helper()
	n := 0
	for _, line := range strings.Split(log, "\n") {
		if m := createdCount.FindStringSubmatch(line); m != nil {
			c, err := strconv.Atoi(m[1])
			if err != nil {
				t.Fatalf("log line %q: %v", line, err)
			}
			n = max(n, c)
		} else if strings.Contains(line, "\tcreating route\t") {
			n = max(n, 1)
		}
	}
	return n
}
