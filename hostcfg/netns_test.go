package hostcfg

import (
	"context"
	"net/netip"
	"os/exec"
	"strings"
	"testing"

	"github.com/vpcroute/vpcroute/hostcfg/testns"
	"go.uber.org/zap/zaptest"
)

// These tests run against the real iptables (nf_tables backend) and the
// real /proc/sys of a network namespace each test creates: testns.InFresh
// re-runs the test in a child process inside it.

const nsPrefix = "vrhc"

// save returns iptables-save without counters and without the "#" lines
// that carry a timestamp.
func save(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("iptables-save").Output()
	if err != nil {
		t.Fatalf("iptables-save: %v", err)
	}
	var keep []string
	for _, l := range strings.Split(string(out), "\n") {
		if !strings.HasPrefix(l, "#") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// ipt runs an iptables command the test needs to set the scene.
func ipt(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("iptables", args...).CombinedOutput(); err != nil {
		t.Fatalf("iptables %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// chainRules returns `iptables -t table -S chain` lines.
func chainRules(t *testing.T, table, chain string) string {
	t.Helper()
	out, err := exec.Command("iptables", "-t", table, "-S", chain).CombinedOutput()
	if err != nil {
		t.Fatalf("iptables -t %s -S %s: %v: %s", table, chain, err, out)
	}
	return strings.TrimSpace(string(out))
}

// withoutOwned drops what vpcroute adds for cluster from an iptables-save
// dump: its tagged rules and the declarations of its chains.
func withoutOwned(dump, cluster string) string {
	var keep []string
	for _, l := range strings.Split(dump, "\n") {
		if strings.Contains(l, `"`+Tag(cluster)+`"`) || strings.HasPrefix(l, ":VPCROUTE-") {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n")
}

// netnsOptions are the options of the lab's host A.
func netnsOptions(t *testing.T) Options {
	return Options{
		Cluster:     "default",
		Subnets:     []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24")},
		ClusterCIDR: netip.MustParsePrefix("10.0.0.0/8"),
		VPCCIDRs:    []netip.Prefix{netip.MustParsePrefix("192.168.0.0/16")},
		StateDir:    t.TempDir(),
	}
}

func mustApply(t *testing.T, o Options) Result {
	t.Helper()
	res, err := Apply(context.Background(), o, zaptest.NewLogger(t))
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	return res
}

func mustCleanup(t *testing.T, o Options) Result {
	t.Helper()
	res, err := Cleanup(context.Background(), o, zaptest.NewLogger(t))
	if err != nil {
		t.Fatalf("Cleanup: %v", err)
	}
	return res
}

// applyAgainUnchanged applies once more and requires no change at all.
func applyAgainUnchanged(t *testing.T, o Options) {
	t.Helper()
	before := save(t)
	if res := mustApply(t, o); res.Changed() {
		t.Errorf("second Apply changed %v", res.Changes)
	}
	if after := save(t); after != before {
		t.Errorf("second Apply changed iptables-save:\n%s\nto\n%s", before, after)
	}
}

func TestNetnsApplyEmptyNamespace(t *testing.T) {
	if !testns.InFresh(t, nsPrefix) {
		return
	}
	o := netnsOptions(t)
	res := mustApply(t, o)
	if !res.Changed() {
		t.Fatal("Apply on an empty namespace changed nothing")
	}
	if v, err := readSysctl(DefaultProcSys, sysctlIPForward); err != nil || v != "1" {
		t.Errorf("ip_forward = %q, %v; want 1", v, err)
	}
	for _, c := range []struct{ table, chain, want string }{
		{TableFilter, ChainForward, `-P FORWARD ACCEPT
-A FORWARD -m comment --comment "vpcroute:default" -j DOCKER-USER`},
		{TableFilter, ChainDockerUser, `-N DOCKER-USER
-A DOCKER-USER -m comment --comment "vpcroute:default" -j VPCROUTE-FORWARD`},
		{TableFilter, ChainVPCForward, `-N VPCROUTE-FORWARD
-A VPCROUTE-FORWARD -s 10.0.0.0/24 -m comment --comment "vpcroute:default" -j RETURN
-A VPCROUTE-FORWARD -s 10.0.0.0/8 -d 10.0.0.0/24 -m comment --comment "vpcroute:default" -j ACCEPT
-A VPCROUTE-FORWARD -s 192.168.0.0/16 -d 10.0.0.0/24 -m comment --comment "vpcroute:default" -j ACCEPT`},
		{TableNAT, ChainPostrouting, `-P POSTROUTING ACCEPT
-A POSTROUTING -m comment --comment "vpcroute:default" -j VPCROUTE-POSTROUTING`},
		{TableNAT, ChainVPCPostrouting, `-N VPCROUTE-POSTROUTING
-A VPCROUTE-POSTROUTING -s 10.0.0.0/24 -d 10.0.0.0/8 -m comment --comment "vpcroute:default" -j ACCEPT`},
	} {
		if got := chainRules(t, c.table, c.chain); got != c.want {
			t.Errorf("iptables -t %s -S %s:\n%s\nwant:\n%s", c.table, c.chain, got, c.want)
		}
	}
	st, err := Inspect(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if st.IPForward != "1" || !st.ForwardChain || !st.ForwardJump || !st.DockerUserCreated || !st.DockerUserJumped ||
		st.NATJumpPosition != 1 || len(st.ForwardRules) != 3 || len(st.NATRules) != 1 || len(st.Drift) != 0 {
		t.Errorf("Inspect after Apply = %+v", st)
	}
	applyAgainUnchanged(t, o)

	mustCleanup(t, o)
	// nf_tables creates a table on first use and vpcroute does not own the
	// tables, so an empty namespace ends with empty built-in chains.
	for _, l := range strings.Split(save(t), "\n") {
		switch {
		case l == "", l == "COMMIT", l == "*filter", l == "*nat":
		case strings.HasPrefix(l, ":") && strings.HasSuffix(l, " ACCEPT [0:0]") && !strings.Contains(l, "VPCROUTE") && !strings.Contains(l, "DOCKER"):
		default:
			t.Errorf("Cleanup left %q", l)
		}
	}
	if res := mustCleanup(t, o); res.Changed() {
		t.Errorf("second Cleanup changed %v", res.Changes)
	}
	st, err = Inspect(context.Background(), Options{Cluster: "default", StateDir: o.StateDir})
	if err != nil {
		t.Fatal(err)
	}
	if st.ForwardChain || st.NATChain || st.DockerUserChain || st.DockerUserCreated || st.Drift != nil {
		t.Errorf("Inspect after Cleanup = %+v", st)
	}
}

// foreignScene writes rules vpcroute must never touch: a user DOCKER-USER
// with its own FORWARD jump, a FORWARD rule, a MASQUERADE and a rule above
// it in POSTROUTING, and a rule tagged for another cluster.
func foreignScene(t *testing.T) {
	t.Helper()
	ipt(t, "-P", "FORWARD", "DROP")
	ipt(t, "-N", "DOCKER-USER")
	ipt(t, "-A", "DOCKER-USER", "-s", "203.0.113.7/32", "-j", "DROP")
	ipt(t, "-A", "DOCKER-USER", "-j", "RETURN")
	ipt(t, "-A", "FORWARD", "-j", "DOCKER-USER")
	ipt(t, "-A", "FORWARD", "-s", "198.51.100.0/24", "-m", "comment", "--comment", "admin: keep me", "-j", "DROP")
	ipt(t, "-A", "FORWARD", "-s", "10.0.0.0/8", "-m", "comment", "--comment", "vpcroute:other", "-j", "ACCEPT")
	ipt(t, "-t", "nat", "-A", "POSTROUTING", "-s", "10.0.0.0/24", "!", "-o", "docker0", "-j", "MASQUERADE")
	ipt(t, "-t", "nat", "-I", "POSTROUTING", "1", "-d", "198.51.100.9/32", "-j", "RETURN")
}

func TestNetnsForeignRulesSurvive(t *testing.T) {
	if !testns.InFresh(t, nsPrefix) {
		return
	}
	foreignScene(t)
	before := save(t)
	o := netnsOptions(t)
	mustApply(t, o)
	after := save(t)
	if got := withoutOwned(after, o.Cluster); got != before {
		t.Errorf("Apply changed rules it does not own; without vpcroute's lines:\n%s\nwant:\n%s", got, before)
	}
	if got := chainRules(t, TableFilter, ChainDockerUser); !strings.HasPrefix(got, "-N DOCKER-USER\n-A DOCKER-USER -m comment --comment \"vpcroute:default\" -j VPCROUTE-FORWARD\n") {
		t.Errorf("vpcroute's jump is not first in DOCKER-USER:\n%s", got)
	}
	if strings.Count(chainRules(t, TableFilter, ChainForward), "-j DOCKER-USER") != 1 {
		t.Errorf("vpcroute added a FORWARD jump although one exists:\n%s", after)
	}
	applyAgainUnchanged(t, o)
	mustCleanup(t, o)
	if got := save(t); got != before {
		t.Errorf("Cleanup did not restore the exact pre-Apply state:\n%s\nwant:\n%s", got, before)
	}
}

func TestNetnsJumpMovedBackToTop(t *testing.T) {
	if !testns.InFresh(t, nsPrefix) {
		return
	}
	foreignScene(t)
	before := save(t)
	o := netnsOptions(t)
	mustApply(t, o)
	// What Docker does when a network is created: its MASQUERADE on top.
	ipt(t, "-t", "nat", "-I", "POSTROUTING", "1", "-s", "10.9.0.0/24", "!", "-o", "br-test", "-j", "MASQUERADE")
	st, err := Inspect(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if st.NATJumpPosition != 2 || len(st.Drift) == 0 {
		t.Fatalf("Inspect after a foreign insert: jump at %d, drift %v; want 2 and a plan", st.NATJumpPosition, st.Drift)
	}
	mustApply(t, o)
	got := chainRules(t, TableNAT, ChainPostrouting)
	want := `-P POSTROUTING ACCEPT
-A POSTROUTING -m comment --comment "vpcroute:default" -j VPCROUTE-POSTROUTING
-A POSTROUTING -s 10.9.0.0/24 ! -o br-test -j MASQUERADE
-A POSTROUTING -d 198.51.100.9/32 -j RETURN
-A POSTROUTING -s 10.0.0.0/24 ! -o docker0 -j MASQUERADE`
	if got != want {
		t.Errorf("POSTROUTING after Apply:\n%s\nwant:\n%s", got, want)
	}
	applyAgainUnchanged(t, o)
	ipt(t, "-t", "nat", "-D", "POSTROUTING", "-s", "10.9.0.0/24", "!", "-o", "br-test", "-j", "MASQUERADE")
	mustCleanup(t, o)
	if got := save(t); got != before {
		t.Errorf("Cleanup did not restore the pre-Apply state:\n%s\nwant:\n%s", got, before)
	}
}

func TestNetnsSubnetChange(t *testing.T) {
	if !testns.InFresh(t, nsPrefix) {
		return
	}
	foreignScene(t)
	before := save(t)
	o := netnsOptions(t)
	mustApply(t, o)
	o.Subnets = []netip.Prefix{netip.MustParsePrefix("10.7.0.0/24"), netip.MustParsePrefix("10.0.9.0/24")}
	mustApply(t, o)
	if got, want := chainRules(t, TableFilter, ChainVPCForward), `-N VPCROUTE-FORWARD
-A VPCROUTE-FORWARD -s 10.0.9.0/24 -m comment --comment "vpcroute:default" -j RETURN
-A VPCROUTE-FORWARD -s 10.7.0.0/24 -m comment --comment "vpcroute:default" -j RETURN
-A VPCROUTE-FORWARD -s 10.0.0.0/8 -d 10.0.9.0/24 -m comment --comment "vpcroute:default" -j ACCEPT
-A VPCROUTE-FORWARD -s 192.168.0.0/16 -d 10.0.9.0/24 -m comment --comment "vpcroute:default" -j ACCEPT
-A VPCROUTE-FORWARD -s 10.0.0.0/8 -d 10.7.0.0/24 -m comment --comment "vpcroute:default" -j ACCEPT
-A VPCROUTE-FORWARD -s 192.168.0.0/16 -d 10.7.0.0/24 -m comment --comment "vpcroute:default" -j ACCEPT`; got != want {
		t.Errorf("VPCROUTE-FORWARD after the subnet change:\n%s\nwant:\n%s", got, want)
	}
	if got, want := chainRules(t, TableNAT, ChainVPCPostrouting), `-N VPCROUTE-POSTROUTING
-A VPCROUTE-POSTROUTING -s 10.0.9.0/24 -d 10.0.0.0/8 -m comment --comment "vpcroute:default" -j ACCEPT
-A VPCROUTE-POSTROUTING -s 10.7.0.0/24 -d 10.0.0.0/8 -m comment --comment "vpcroute:default" -j ACCEPT`; got != want {
		t.Errorf("VPCROUTE-POSTROUTING after the subnet change:\n%s\nwant:\n%s", got, want)
	}
	if got := withoutOwned(save(t), o.Cluster); got != before {
		t.Errorf("subnet change touched foreign rules:\n%s\nwant:\n%s", got, before)
	}
	applyAgainUnchanged(t, o)
	mustCleanup(t, o)
	if got := save(t); got != before {
		t.Errorf("Cleanup did not restore the pre-Apply state:\n%s\nwant:\n%s", got, before)
	}
}

func TestNetnsForwardPolicyAccept(t *testing.T) {
	if !testns.InFresh(t, nsPrefix) {
		return
	}
	foreignScene(t) // FORWARD policy DROP, as Docker sets it
	before := save(t)
	o := netnsOptions(t)
	o.ForwardPolicyAccept = true
	mustApply(t, o)
	if got := chainRules(t, TableFilter, ChainForward); !strings.HasPrefix(got, "-P FORWARD ACCEPT\n") {
		t.Errorf("FORWARD policy not ACCEPT:\n%s", got)
	}
	st, err := Inspect(context.Background(), o)
	if err != nil || st.RecordedForwardPolicy != "DROP" || st.ForwardPolicy != "ACCEPT" || len(st.Drift) != 0 {
		t.Errorf("Inspect = %+v, %v; want policy ACCEPT recorded DROP", st, err)
	}
	applyAgainUnchanged(t, o)
	mustCleanup(t, o)
	if got := save(t); got != before {
		t.Errorf("Cleanup did not restore the policy and rules:\n%s\nwant:\n%s", got, before)
	}
}

func TestNetnsBadOptionsChangeNothing(t *testing.T) {
	if !testns.InFresh(t, nsPrefix) {
		return
	}
	foreignScene(t)
	before := save(t)
	o := netnsOptions(t)
	o.ClusterCIDR = netip.MustParsePrefix("10.0.0.0/16")
	o.Subnets = []netip.Prefix{netip.MustParsePrefix("10.1.0.0/24")}
	_, err := Apply(context.Background(), o, zaptest.NewLogger(t))
	if err == nil || err.Error() != "hostcfg: Subnets[0] = 10.1.0.0/24 is outside ClusterCIDR 10.0.0.0/16; expected a subnet inside the cluster CIDR" {
		t.Fatalf("Apply = %v", err)
	}
	if got := save(t); got != before {
		t.Errorf("a refused Apply changed iptables:\n%s", got)
	}
	if v, _ := readSysctl(DefaultProcSys, sysctlIPForward); v != "0" {
		t.Errorf("a refused Apply changed ip_forward to %s", v)
	}
}

func TestNetnsDockerUserCreatedThenAdopted(t *testing.T) {
	if !testns.InFresh(t, nsPrefix) {
		return
	}
	// A host without Docker (yet): no DOCKER-USER.
	ipt(t, "-P", "FORWARD", "DROP")
	ipt(t, "-A", "FORWARD", "-s", "198.51.100.0/24", "-j", "DROP")
	ipt(t, "-t", "nat", "-A", "POSTROUTING", "-s", "10.0.0.0/24", "!", "-o", "docker0", "-j", "MASQUERADE")
	before := save(t)
	o := netnsOptions(t)
	res := mustApply(t, o)
	if len(res.Notes) == 0 {
		t.Error("no note about creating DOCKER-USER")
	}
	if got, want := chainRules(t, TableFilter, ChainForward), `-P FORWARD DROP
-A FORWARD -m comment --comment "vpcroute:default" -j DOCKER-USER
-A FORWARD -s 198.51.100.0/24 -j DROP`; got != want {
		t.Errorf("FORWARD:\n%s\nwant:\n%s", got, want)
	}
	applyAgainUnchanged(t, o)
	mustCleanup(t, o)
	if got := save(t); got != before {
		t.Errorf("Cleanup did not remove the DOCKER-USER it created:\n%s\nwant:\n%s", got, before)
	}

	// Apply again, then Docker starts: its own jump on top, RETURN in
	// DOCKER-USER. vpcroute hands the chain over.
	mustApply(t, o)
	ipt(t, "-I", "FORWARD", "1", "-j", "DOCKER-USER")
	ipt(t, "-A", "DOCKER-USER", "-j", "RETURN")
	withDocker := withoutOwned(save(t), o.Cluster)
	mustApply(t, o)
	if got := chainRules(t, TableFilter, ChainForward); strings.Contains(got, `"vpcroute:default" -j DOCKER-USER`) {
		t.Errorf("vpcroute kept its FORWARD jump next to Docker's:\n%s", got)
	}
	st, err := Inspect(context.Background(), o)
	if err != nil || st.DockerUserCreated || !st.ForwardJump || len(st.Drift) != 0 {
		t.Errorf("Inspect after Docker adopted DOCKER-USER = %+v, %v", st, err)
	}
	applyAgainUnchanged(t, o)
	mustCleanup(t, o)
	if got := save(t); got != withDocker {
		t.Errorf("Cleanup after Docker adopted DOCKER-USER:\n%s\nwant Docker's rules:\n%s", got, withDocker)
	}
	if !strings.Contains(save(t), ":DOCKER-USER - [0:0]") {
		t.Error("Cleanup deleted DOCKER-USER, which Docker owns now")
	}
}
