package hostcfg

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap/zaptest"
)

// fakeHost bundles a fake iptables with temp sysctl and state dirs.
type fakeHost struct {
	ipt  *fakeIPT
	opts Options
}

func newFakeHost(t *testing.T, ipt *fakeIPT) *fakeHost {
	o := validOptions()
	o.ProcSys = fakeProcSys(t, "0\n")
	o.StateDir = filepath.Join(t.TempDir(), "state")
	return &fakeHost{ipt: ipt, opts: o}
}

// use hands the fake to the *With functions.
func (h *fakeHost) use() (iptablesAPI, error) { return h.ipt, nil }

func (h *fakeHost) apply(t *testing.T) Result {
	t.Helper()
	res, err := applyWith(context.Background(), h.use, h.opts, zaptest.NewLogger(t))
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	return res
}

func (h *fakeHost) cleanup(t *testing.T) Result {
	t.Helper()
	res, err := cleanupWith(context.Background(), h.use, h.opts, zaptest.NewLogger(t))
	if err != nil {
		t.Fatalf("cleanup: %v", err)
	}
	return res
}

func (h *fakeHost) stateFiles(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(h.opts.StateDir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.Name() != "lock" {
			out = append(out, e.Name())
		}
	}
	return out
}

// assertIdempotent applies again and expects no change at all.
func (h *fakeHost) assertIdempotent(t *testing.T) {
	t.Helper()
	before := h.ipt.dump()
	if res := h.apply(t); res.Changed() {
		t.Errorf("second apply changed %v", res.Changes)
	}
	if after := h.ipt.dump(); after != before {
		t.Errorf("second apply changed the tables:\n%s\nto\n%s", before, after)
	}
}

func TestApplyFakeNoDocker(t *testing.T) {
	h := newFakeHost(t, newFakeIPT())
	before := h.ipt.dump()
	res := h.apply(t)
	if !res.Changed() || len(res.Notes) == 0 {
		t.Fatalf("apply on an empty host: %+v", res)
	}
	want := `*filter
:INPUT ACCEPT
:FORWARD ACCEPT
:OUTPUT ACCEPT
:VPCROUTE-FORWARD -
:DOCKER-USER -
-A FORWARD -m comment --comment "vpcroute:default" -j DOCKER-USER
-A VPCROUTE-FORWARD -s 10.0.0.0/24 -m comment --comment "vpcroute:default" -j RETURN
-A VPCROUTE-FORWARD -s 10.0.0.0/8 -d 10.0.0.0/24 -m comment --comment "vpcroute:default" -j ACCEPT
-A VPCROUTE-FORWARD -s 192.168.0.0/16 -d 10.0.0.0/24 -m comment --comment "vpcroute:default" -j ACCEPT
-A DOCKER-USER -m comment --comment "vpcroute:default" -j VPCROUTE-FORWARD
*nat
:PREROUTING ACCEPT
:INPUT ACCEPT
:OUTPUT ACCEPT
:POSTROUTING ACCEPT
:VPCROUTE-POSTROUTING -
-A POSTROUTING -m comment --comment "vpcroute:default" -j VPCROUTE-POSTROUTING
-A VPCROUTE-POSTROUTING -s 10.0.0.0/24 -d 10.0.0.0/8 -m comment --comment "vpcroute:default" -j ACCEPT
`
	if got := h.ipt.dump(); got != want {
		t.Errorf("after apply:\n%s\nwant:\n%s", got, want)
	}
	if v, _ := readSysctl(h.opts.ProcSys, sysctlIPForward); v != "1" {
		t.Errorf("ip_forward = %q, want 1", v)
	}
	if files := h.stateFiles(t); strings.Join(files, ",") != stateDockerUser {
		t.Errorf("state files = %v, want only %s", files, stateDockerUser)
	}
	h.assertIdempotent(t)

	h.cleanup(t)
	if got := h.ipt.dump(); got != before {
		t.Errorf("cleanup left:\n%s\nwant:\n%s", got, before)
	}
	if files := h.stateFiles(t); len(files) != 0 {
		t.Errorf("cleanup left state files %v", files)
	}
	if v, _ := readSysctl(h.opts.ProcSys, sysctlIPForward); v != "1" {
		t.Errorf("cleanup turned ip_forward off: %q", v)
	}
	if res := h.cleanup(t); res.Changed() {
		t.Errorf("second cleanup changed %v", res.Changes)
	}
}

func TestApplyFakeWithDocker(t *testing.T) {
	h := newFakeHost(t, newFakeIPT().withDocker())
	before := h.ipt.dump()
	h.apply(t)
	got := h.ipt.dump()
	for _, want := range []string{
		"-A FORWARD -j DOCKER-USER\n-A FORWARD -j DOCKER-ISOLATION-STAGE-1\n",
		"-A DOCKER-USER -m comment --comment \"vpcroute:default\" -j VPCROUTE-FORWARD\n-A DOCKER-USER -j RETURN\n",
		"-A POSTROUTING -m comment --comment \"vpcroute:default\" -j VPCROUTE-POSTROUTING\n-A POSTROUTING -s 10.0.0.0/24 ! -o docker0 -j MASQUERADE\n",
		":FORWARD DROP\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("after apply, missing\n%s\nin\n%s", want, got)
		}
	}
	if strings.Count(got, "-j DOCKER-USER") != 1 {
		t.Errorf("vpcroute added a FORWARD jump although Docker has one:\n%s", got)
	}
	if files := h.stateFiles(t); len(files) != 0 {
		t.Errorf("state files %v; want none (Docker owns DOCKER-USER)", files)
	}
	h.assertIdempotent(t)
	h.cleanup(t)
	if after := h.ipt.dump(); after != before {
		t.Errorf("cleanup left:\n%s\nwant what Docker alone had:\n%s", after, before)
	}
}

func TestApplyFakeJumpMovedBack(t *testing.T) {
	h := newFakeHost(t, newFakeIPT().withDocker())
	h.apply(t)
	// Docker inserts the MASQUERADE of a new network at the top.
	h.ipt.mustRule(TableNAT, ChainPostrouting, 1, "-s 10.9.0.0/24 ! -o br-1 -j MASQUERADE")
	res := h.apply(t)
	if len(res.Changes) != 4 {
		t.Errorf("changes = %v; want a moving copy on top, the old jump deleted, the jump on top, the copy deleted", res.Changes)
	}
	st, err := inspectWith(context.Background(), h.use, h.opts)
	if err != nil {
		t.Fatal(err)
	}
	if st.NATJumpPosition != 1 || len(st.Drift) != 0 {
		t.Errorf("state after apply: jump at %d, drift %v", st.NATJumpPosition, st.Drift)
	}
	rules := h.ipt.tables[TableNAT].rules[ChainPostrouting]
	if names := names(rules); !strings.Contains(names, "MASQUERADE") || rules[0].target() != ChainVPCPostrouting || len(rules) != 3 {
		t.Errorf("POSTROUTING = %s", names)
	}
}

func TestApplyFakeDockerStartsLater(t *testing.T) {
	h := newFakeHost(t, newFakeIPT())
	h.apply(t)
	// dockerd starts: it adopts DOCKER-USER and puts its own jump on top.
	h.ipt.mustRule(TableFilter, ChainForward, 1, "-j DOCKER-USER")
	h.ipt.mustRule(TableFilter, ChainDockerUser, 0, "-j RETURN")
	res := h.apply(t)
	var ops []string
	for _, c := range res.Changes {
		ops = append(ops, string(c.Op))
	}
	if strings.Join(ops, ",") != "remove-state,delete-rule" {
		t.Errorf("changes = %v; want the marker and our FORWARD jump removed", res.Changes)
	}
	h.assertIdempotent(t)
	h.cleanup(t)
	if !strings.Contains(h.ipt.dump(), ":DOCKER-USER -") {
		t.Error("cleanup deleted DOCKER-USER, which Docker owns now")
	}
}

func TestApplyFakeSubnetChange(t *testing.T) {
	h := newFakeHost(t, newFakeIPT().withDocker())
	h.apply(t)
	h.opts.Subnets = []netip.Prefix{netip.MustParsePrefix("10.7.0.0/24")}
	h.apply(t)
	got := h.ipt.dump()
	if strings.Contains(got, "10.0.0.0/24 -m comment") || strings.Contains(got, "-d 10.0.0.0/24") {
		t.Errorf("stale rules for 10.0.0.0/24 left:\n%s", got)
	}
	if strings.Count(got, "10.7.0.0/24") != 4 {
		t.Errorf("want 4 rules for 10.7.0.0/24:\n%s", got)
	}
	h.assertIdempotent(t)
}

func TestApplyFakeForeignRulesInOurChain(t *testing.T) {
	h := newFakeHost(t, newFakeIPT().withDocker())
	h.apply(t)
	h.ipt.mustRule(TableFilter, ChainVPCForward, 0, "-s 172.16.0.0/12 -j ACCEPT")
	h.assertIdempotent(t)
	res := h.cleanup(t)
	if len(res.Notes) == 0 {
		t.Error("cleanup kept a chain without saying so")
	}
	got := h.ipt.dump()
	for _, want := range []string{
		"-A VPCROUTE-FORWARD -s 172.16.0.0/12 -j ACCEPT\n",
		"-A DOCKER-USER -m comment --comment \"vpcroute:default\" -j VPCROUTE-FORWARD\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("cleanup removed %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "VPCROUTE-POSTROUTING") || strings.Contains(got, "-d 10.0.0.0/24") {
		t.Errorf("cleanup left vpcroute rules:\n%s", got)
	}
}

func TestApplyFakeForwardPolicy(t *testing.T) {
	h := newFakeHost(t, newFakeIPT().withDocker())
	h.opts.ForwardPolicyAccept = true
	h.apply(t)
	if p := h.ipt.tables[TableFilter].policy[ChainForward]; p != "ACCEPT" {
		t.Fatalf("policy = %s, want ACCEPT", p)
	}
	if v, ok, _ := stateDir(h.opts.StateDir).read(stateForwardPolicy); !ok || v != "DROP" {
		t.Fatalf("recorded policy = %q, %v; want DROP", v, ok)
	}
	h.assertIdempotent(t)
	// Docker restarts and sets DROP again: ACCEPT again, record kept.
	h.ipt.tables[TableFilter].policy[ChainForward] = "DROP"
	h.apply(t)
	if v, _, _ := stateDir(h.opts.StateDir).read(stateForwardPolicy); v != "DROP" {
		t.Errorf("record = %q after Docker restart, want DROP", v)
	}
	// The option is turned off: the policy goes back.
	h.opts.ForwardPolicyAccept = false
	h.apply(t)
	if p := h.ipt.tables[TableFilter].policy[ChainForward]; p != "DROP" {
		t.Errorf("policy = %s after turning the option off, want DROP", p)
	}
	if files := h.stateFiles(t); len(files) != 0 {
		t.Errorf("state files %v", files)
	}

	// Cleanup restores it too, unless someone changed it since.
	h.opts.ForwardPolicyAccept = true
	h.apply(t)
	h.cleanup(t)
	if p := h.ipt.tables[TableFilter].policy[ChainForward]; p != "DROP" {
		t.Errorf("policy = %s after cleanup, want DROP", p)
	}
	h.apply(t)
	h.ipt.tables[TableFilter].policy[ChainForward] = "REJECT" // an admin's choice
	res := h.cleanup(t)
	if p := h.ipt.tables[TableFilter].policy[ChainForward]; p != "REJECT" {
		t.Errorf("cleanup overrode a policy set after vpcroute: %s", p)
	}
	if len(res.Notes) == 0 {
		t.Error("no note about the policy left alone")
	}
}

func TestApplyFakeConcurrentEdit(t *testing.T) {
	h := newFakeHost(t, newFakeIPT().withDocker())
	h.apply(t)
	h.opts.Subnets = []netip.Prefix{netip.MustParsePrefix("10.7.0.0/24")}
	// Someone inserts a rule on top of our chain between our read and our
	// first delete: positions shift, deletes by content are unaffected and
	// the next round puts our rules back in order.
	inserted := false
	h.ipt.beforeDelete = func(f *fakeIPT) {
		if !inserted {
			inserted = true
			f.mustRule(TableFilter, ChainVPCForward, 1, "-s 172.16.0.0/12 -j ACCEPT")
		}
	}
	h.apply(t)
	if !inserted {
		t.Fatal("the test hook never ran")
	}
	rules := h.ipt.tables[TableFilter].rules[ChainVPCForward]
	if got, want := names(rules), "-s 172.16.0.0/12 -j ACCEPT"; !strings.Contains(got, want) {
		t.Errorf("the concurrently inserted rule is gone: %s", got)
	}
	h.ipt.beforeDelete = nil
	h.assertIdempotent(t)

	// A chain that keeps changing: whatever happens, no foreign rule is
	// lost, and a failure is one line saying the chains keep changing.
	h.opts.Subnets = []netip.Prefix{netip.MustParsePrefix("10.8.0.0/24")}
	logs := 0
	h.ipt.beforeDelete = func(f *fakeIPT) {
		logs++
		f.mustRule(TableFilter, ChainVPCForward, 1, "-j LOG")
	}
	_, err := applyWith(context.Background(), h.use, h.opts, zaptest.NewLogger(t))
	if err != nil && (!strings.Contains(err.Error(), "still differ") || strings.Contains(err.Error(), "\n")) {
		t.Fatalf("apply on a busy chain: %v", err)
	}
	got := h.ipt.dump()
	if n := strings.Count(got, "-A VPCROUTE-FORWARD -j LOG\n"); n != logs {
		t.Errorf("%d of %d foreign LOG rules left:\n%s", n, logs, got)
	}
	if !strings.Contains(got, "-s 172.16.0.0/12 -j ACCEPT") {
		t.Errorf("foreign rule lost:\n%s", got)
	}
}

func TestApplyRefusesBadOptions(t *testing.T) {
	h := newFakeHost(t, newFakeIPT())
	before := h.ipt.dump()
	h.opts.Subnets = []netip.Prefix{netip.MustParsePrefix("10.0.0.1/24")}
	_, err := applyWith(context.Background(), h.use, h.opts, nil)
	if err == nil || !strings.Contains(err.Error(), "Subnets[0] = 10.0.0.1/24") {
		t.Fatalf("Apply(bad subnet) = %v", err)
	}
	h.opts.Cluster = "bad name"
	if _, err := cleanupWith(context.Background(), h.use, h.opts, nil); err == nil || !strings.Contains(err.Error(), `Cluster = "bad name"`) {
		t.Fatalf("Cleanup(bad cluster) = %v", err)
	}
	if _, err := inspectWith(context.Background(), h.use, h.opts); err == nil {
		t.Fatal("Inspect(bad options) succeeded")
	}
	if h.ipt.dump() != before || len(h.ipt.calls) != 0 {
		t.Errorf("bad options changed something: %v", h.ipt.calls)
	}
	if v, _ := readSysctl(h.opts.ProcSys, sysctlIPForward); v != "0" {
		t.Errorf("bad options changed ip_forward to %q", v)
	}
	if files := h.stateFiles(t); len(files) != 0 {
		t.Errorf("bad options wrote state %v", files)
	}
}

func TestApplyFakeCorruptState(t *testing.T) {
	h := newFakeHost(t, newFakeIPT().withDocker())
	if err := stateDir(h.opts.StateDir).write(stateForwardPolicy, "rm -rf /\n"); err != nil {
		t.Fatal(err)
	}
	before := h.ipt.dump()
	_, err := cleanupWith(context.Background(), h.use, h.opts, nil)
	if err == nil || !strings.Contains(err.Error(), `forward-policy holds "rm -rf /"; expected the FORWARD policy to restore, DROP or ACCEPT`) {
		t.Fatalf("cleanup with a corrupt state file: %v", err)
	}
	if h.ipt.dump() != before {
		t.Error("cleanup changed iptables despite the corrupt state")
	}
}
