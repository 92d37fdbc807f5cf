package lab_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/examples/lab"
	"github.com/vpcroute/vpcroute/reconciler"
	"github.com/vpcroute/vpcroute/reconciler/status"
)

// doctorResult is `vpcroute doctor -o json` as the tests read it.
type doctorResult struct {
	Checks []struct {
		ID, Result, Cause, Fix string
	} `json:"checks"`
	Summary struct {
		Fail   int
		Result string
	} `json:"summary"`
}

func (d doctorResult) find(t *testing.T, id string) (result, cause, fix string) {
	t.Helper()
	for _, c := range d.Checks {
		if c.ID == id {
			return c.Result, c.Cause, c.Fix
		}
	}
	t.Fatalf("doctor reported no check %s", id)
	return
}

// doctorArgs are doctor's flags on host h of the e2e lab: the registry, the
// host's daemon address, the daemons' resync interval and, as the peer,
// host0's container.
func doctorArgs(l *lab.Lab, extra ...string) []string {
	return append([]string{"--peer", l.Hosts[0].ContainerIP().String(), "--etcd-endpoints", l.EtcdEndpoint(),
		"--status-addr", lab.DaemonStatusAddr, "--resync-interval", l.DaemonConfig().ResyncInterval.String()}, extra...)
}

// runDoctor runs `vpcroute doctor -o json` inside host h's namespace, as the
// lab runs sync, and checks its exit status against its own summary: 1
// when a check failed, 0 otherwise.
func runDoctor(ctx context.Context, t *testing.T, l *lab.Lab, h *lab.Host, extra ...string) doctorResult {
	t.Helper()
	out, err := l.Vpcroute(ctx, h, "doctor", append([]string{"-o", "json"}, doctorArgs(l, extra...)...)...)
	code := 0
	var ce *lab.CmdError
	if errors.As(err, &ce) {
		code = ce.ExitCode
	} else if err != nil {
		t.Fatal(err)
	}
	var d doctorResult
	if jerr := json.Unmarshal([]byte(out), &d); jerr != nil {
		t.Fatalf("doctor on %s: exit %d, output is not JSON (%v): %s; %v", h.Name, code, jerr, out, err)
	}
	want := 0
	if d.Summary.Fail > 0 {
		want = 1
	}
	if code != want {
		t.Errorf("doctor on %s exited %d with %d failed checks, want %d (%v)", h.Name, code, d.Summary.Fail, want, err)
	}
	return d
}

// doctorText is doctor's report for a person, as an operator would see it.
func doctorText(ctx context.Context, t *testing.T, l *lab.Lab, h *lab.Host) string {
	t.Helper()
	out, err := l.Vpcroute(ctx, h, "doctor", doctorArgs(l)...)
	var ce *lab.CmdError
	if err != nil && !errors.As(err, &ce) {
		t.Fatal(err)
	}
	return out
}

// daemonSkips are the daemon checks while no daemon runs on the host:
// skipped, as documented.
var daemonSkips = map[string]string{"daemon.status": "SKIP", "daemon.leader": "SKIP", "daemon.registered": "SKIP",
	"daemon.reconcile-age": "SKIP", "daemon.reconcile-result": "SKIP"}

// only asserts that exactly the given checks do not PASS, with those
// verdicts, plus the daemon checks skipped when daemons is false.
func only(t *testing.T, stage string, d doctorResult, daemons bool, want map[string]string) {
	t.Helper()
	all := map[string]string{}
	if !daemons {
		for k, v := range daemonSkips {
			all[k] = v
		}
	}
	for k, v := range want {
		all[k] = v
	}
	seen := map[string]bool{}
	for _, c := range d.Checks {
		seen[c.ID] = true
		w, ok := all[c.ID]
		if !ok {
			w = "PASS"
		}
		if c.Result != w {
			t.Errorf("%s: %s = %s (cause: %s; fix: %s), want %s", stage, c.ID, c.Result, c.Cause, c.Fix, w)
		}
	}
	for id := range all {
		if !seen[id] {
			t.Errorf("%s: doctor reported no check %s", stage, id)
		}
	}
}

// TestDoctorNamesEachBreak: on the e2e lab with a daemon on every host,
// doctor passes every check. Then, with the daemons stopped so that nothing
// repairs behind the test's back (their checks are then skipped, as
// documented), one thing at a time is broken on one host or in the
// simulated VPC: doctor names exactly that cause, with its fix, and every
// other check still passes. Each break is undone before the next, and the
// host's iptables are checked to be back to what they were.
func TestDoctorNamesEachBreak(t *testing.T) {
	l := sharedLab(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	start := time.Now()
	ensureDaemons(ctx, t, l)
	h := l.Hosts[len(l.Hosts)-1] // not host0: it is the peer
	s := h.Subnet.String()
	waitStatus(ctx, t, l, h, 2*convergeTimeout, "a clean reconcile pass", func(d status.Document) bool {
		return d.Reconcile != nil && d.Reconcile.Result == reconciler.ResultOK && d.Host.Registered && d.Leader.Known
	})
	healthy := runDoctor(ctx, t, l, h)
	only(t, "healthy, with daemons", healthy, true, nil)
	if _, cause, _ := healthy.find(t, "routes.peer"); !strings.Contains(cause, l.Hosts[0].Subnet.String()+" -> Instance/"+l.Hosts[0].InstanceID) {
		t.Errorf("routes.peer names the wrong route: %s", cause)
	}
	t.Logf("healthy lab with daemons: every check passes (%s since start)", time.Since(start).Round(time.Millisecond))

	noDaemons(t, l)
	only(t, "daemons stopped", runDoctor(ctx, t, l, h), false, nil)
	synced, err := l.IptablesSave(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	ipt := func(args ...string) {
		t.Helper()
		if _, err := l.HostExec(ctx, h, append([]string{"iptables"}, args...)...); err != nil {
			t.Fatal(err)
		}
	}
	resync := func() {
		t.Helper()
		if r := l.Sync(ctx, h); r.Err != nil {
			t.Fatalf("restore: sync on %s: %v\n%s", h.Name, r.Err, r.Output)
		}
	}
	// back checks that the host's iptables are what they were before the
	// break (the next case starts from the same host).
	back := func(what string) {
		t.Helper()
		now, err := l.IptablesSave(ctx, h)
		if err != nil {
			t.Fatal(err)
		}
		if now != synced {
			t.Fatalf("after undoing %q, iptables on %s differ:\n%s", what, h.Name, orderDiff(synced, now))
		}
	}
	cannotReach := func(what string) {
		t.Helper()
		ok, err := l.Ping(ctx, lab.ContainerEndpoint(l.Hosts[0]), h.ContainerIP())
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			t.Errorf("%s: container0 still reaches %s's container; the break should stop it", what, h.Name)
		}
	}

	t.Run("ip_forward off", func(t *testing.T) {
		if _, err := l.HostExec(ctx, h, "sh", "-c", "echo 0 > /proc/sys/net/ipv4/ip_forward"); err != nil {
			t.Fatal(err)
		}
		defer func() {
			if _, err := l.HostExec(ctx, h, "sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"); err != nil {
				t.Fatal(err)
			}
		}()
		d := runDoctor(ctx, t, l, h)
		only(t, "ip_forward off", d, false, map[string]string{"sysctl.ip-forward": "FAIL", "sysctl.forwarding": "SKIP"})
		if _, cause, _ := d.find(t, "sysctl.ip-forward"); cause != "net.ipv4.ip_forward = 0: the kernel forwards nothing between the VPC and the containers" {
			t.Errorf("cause: %s", cause)
		}
	})

	t.Run("FORWARD DROP without vpcroute's rules", func(t *testing.T) {
		ipt("-D", "DOCKER-USER", "-m", "comment", "--comment", "vpcroute:"+lab.ClusterName, "-j", "VPCROUTE-FORWARD")
		ipt("-F", "VPCROUTE-FORWARD")
		ipt("-X", "VPCROUTE-FORWARD")
		defer back("FORWARD DROP without vpcroute's rules")
		defer resync()
		d := runDoctor(ctx, t, l, h)
		only(t, "FORWARD DROP", d, false, map[string]string{"iptables.forward": "FAIL"})
		_, cause, fix := d.find(t, "iptables.forward")
		if want := fmt.Sprintf("Docker's FORWARD DROP eats the traffic: vpcroute's accept rules are missing (there is no VPCROUTE-FORWARD chain), so %s -> %s ends at the FORWARD policy DROP", lab.ClusterCIDR, s); cause != want {
			t.Errorf("cause:\n got %s\nwant %s", cause, want)
		}
		if !strings.HasPrefix(fix, "run `vpcroute sync`") {
			t.Errorf("fix: %s", fix)
		}
		cannotReach("FORWARD DROP")
		t.Logf("doctor on %s with Docker's FORWARD DROP and vpcroute's filter rules gone:\n%s", h.Name, doctorText(ctx, t, l, h))
	})

	t.Run("vpcroute cleanup", func(t *testing.T) {
		if out, err := l.Vpcroute(ctx, h, "cleanup"); err != nil {
			t.Fatalf("cleanup: %v\n%s", err, out)
		}
		defer back("vpcroute cleanup")
		defer resync()
		d := runDoctor(ctx, t, l, h)
		// Both of vpcroute's rule sets are gone: both checks name theirs.
		only(t, "cleanup", d, false, map[string]string{"iptables.forward": "FAIL", "iptables.nat": "FAIL"})
	})

	t.Run("NAT exemption removed", func(t *testing.T) {
		ipt("-t", "nat", "-D", "POSTROUTING", "-m", "comment", "--comment", "vpcroute:"+lab.ClusterName, "-j", "VPCROUTE-POSTROUTING")
		defer back("NAT exemption removed")
		defer resync()
		d := runDoctor(ctx, t, l, h)
		only(t, "NAT exemption removed", d, false, map[string]string{"iptables.nat": "FAIL"})
		_, cause, _ := d.find(t, "iptables.nat")
		want := fmt.Sprintf("no NAT exemption: nat POSTROUTING does not jump to VPCROUTE-POSTROUTING, so nat POSTROUTING #1 (-s %s ! -o docker0 -j MASQUERADE) masquerades %s -> %s:", s, s, lab.ClusterCIDR)
		if !strings.HasPrefix(cause, want) {
			t.Errorf("cause:\n got %s\nwant %s ...", cause, want)
		}
	})

	t.Run("DROP ahead of vpcroute's chain", func(t *testing.T) {
		ipt("-I", "DOCKER-USER", "1", "-d", s, "-j", "DROP")
		d := runDoctor(ctx, t, l, h)
		only(t, "DROP in DOCKER-USER", d, false, map[string]string{"iptables.forward": "FAIL"})
		_, cause, fix := d.find(t, "iptables.forward")
		if want := fmt.Sprintf("DOCKER-USER #1 (-d %s -j DROP) drops %s -> %s before vpcroute's accept rules", s, lab.ClusterCIDR, s); cause != want {
			t.Errorf("cause:\n got %s\nwant %s", cause, want)
		}
		cannotReach("DROP in DOCKER-USER")
		// The fix is a command: run it as printed.
		cmd, ok := strings.CutPrefix(fix, "delete it: ")
		if !ok || cmd != "iptables -D DOCKER-USER -d "+s+" -j DROP" {
			t.Fatalf("fix: %s", fix)
		}
		if _, err := l.HostExec(ctx, h, strings.Fields(cmd)...); err != nil {
			t.Fatal(err)
		}
		back("DROP in DOCKER-USER (with doctor's fix)")
		only(t, "after doctor's fix", runDoctor(ctx, t, l, h), false, nil)
	})

	t.Run("REJECT in FORWARD before DOCKER-USER", func(t *testing.T) {
		ipt("-I", "FORWARD", "1", "-s", lab.ClusterCIDR, "-d", s, "-j", "REJECT")
		defer back("REJECT in FORWARD")
		defer ipt("-D", "FORWARD", "-s", lab.ClusterCIDR, "-d", s, "-j", "REJECT")
		d := runDoctor(ctx, t, l, h)
		only(t, "REJECT in FORWARD", d, false, map[string]string{"iptables.forward": "FAIL"})
		if _, cause, _ := d.find(t, "iptables.forward"); !strings.HasPrefix(cause, fmt.Sprintf("FORWARD #1 (-s %s -d %s -j REJECT --reject-with icmp-port-unreachable) drops", lab.ClusterCIDR, s)) {
			t.Errorf("cause: %s", cause)
		}
	})

	t.Run("this host's route deleted", func(t *testing.T) {
		if err := l.SimDeleteRoute(ctx, lab.RouteTableID, s); err != nil {
			t.Fatal(err)
		}
		defer resync()
		d := runDoctor(ctx, t, l, h)
		only(t, "route deleted", d, false, map[string]string{"routes.local": "FAIL"})
		_, cause, fix := d.find(t, "routes.local")
		if want := fmt.Sprintf("no entry for %s in %s: the VPC does not send it to Instance/%s", s, lab.RouteTableID, h.InstanceID); cause != want {
			t.Errorf("cause:\n got %s\nwant %s", cause, want)
		}
		if !strings.HasPrefix(fix, "run `vpcroute sync` on this host") {
			t.Errorf("fix: %s", fix)
		}
		t.Logf("doctor on %s with its route deleted:\n%s", h.Name, doctorText(ctx, t, l, h))
	})

	wrong := l.Hosts[0].InstanceID
	for _, tc := range []struct {
		name, entryName, description, cause string
	}{
		{"route to another instance, not vpcroute's", "manual-test", "",
			fmt.Sprintf("%s in %s is held by Instance/%s (entry manual-test), which vpcroute does not own and will not change", s, lab.RouteTableID, wrong)},
		{"route to another host of the cluster", "vpcroute-" + lab.ClusterName, "managed by vpcroute; cluster=" + lab.ClusterName + "; instance=" + wrong,
			fmt.Sprintf("%s in %s points at Instance/%s, another host of cluster %s, not Instance/%s", s, lab.RouteTableID, wrong, lab.ClusterName, h.InstanceID)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := l.SimDeleteRoute(ctx, lab.RouteTableID, s); err != nil {
				t.Fatal(err)
			}
			if err := l.SimPutRoute(ctx, lab.SimRoute{Table: lab.RouteTableID, Destination: s, NextHopType: "Instance", NextHopID: wrong,
				Name: tc.entryName, Description: tc.description}); err != nil {
				t.Fatal(err)
			}
			defer resync()
			defer func() {
				if err := l.SimDeleteRoute(ctx, lab.RouteTableID, s); err != nil {
					t.Fatal(err)
				}
			}()
			d := runDoctor(ctx, t, l, h)
			only(t, tc.name, d, false, map[string]string{"routes.local": "FAIL"})
			if _, cause, _ := d.find(t, "routes.local"); cause != tc.cause {
				t.Errorf("cause:\n got %s\nwant %s", cause, tc.cause)
			}
		})
	}

	t.Run("bridge network overlapping the VPC", func(t *testing.T) {
		docker := func(args ...string) {
			t.Helper()
			full := append([]string{"docker", "--config", filepath.Join(h.Dir, "cli"), "-H", h.DockerHost}, args...)
			if _, err := l.HostExec(ctx, h, full...); err != nil {
				t.Fatal(err)
			}
		}
		docker("network", "create", "--subnet", "192.168.5.0/24", "vpcbad")
		defer back("bridge network overlapping the VPC")
		defer docker("network", "rm", "vpcbad")
		d := runDoctor(ctx, t, l, h, "--network", "vpcbad")
		only(t, "bip overlapping the VPC", d, false, map[string]string{"subnets.vpc-overlap": "FAIL"})
		_, cause, fix := d.find(t, "subnets.vpc-overlap")
		if want := "192.168.5.0/24 overlaps the VPC CIDR " + lab.VPCCIDR + ": the VPC delivers those addresses inside the VPC, never to this host"; cause != want {
			t.Errorf("cause:\n got %s\nwant %s", cause, want)
		}
		if !strings.Contains(fix, "inside the cluster CIDR "+lab.ClusterCIDR) {
			t.Errorf("fix: %s", fix)
		}
	})

	only(t, "every break undone", runDoctor(ctx, t, l, h), false, nil)
	t.Logf("doctor named each of 10 breaks on %s and nothing else in %s", h.Name, time.Since(start).Round(time.Millisecond))
}
