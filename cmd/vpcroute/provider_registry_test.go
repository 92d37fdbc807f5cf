package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/cloud/cloudtest"
)

// These tests add a provider the way a new cloud would be added: one
// package (cloud/cloudtest) and one registration line, here in the test
// instead of providers.go. Nothing else in vpcroute names it; --provider
// fake, its own --fake-zone flag, sync's HostPreparer and Replacer use and
// doctor's source/destination check and quota all come from the registry.

// fakeWorld is a VPC with this host, i-fake1, and one route table.
func fakeWorld() *cloudtest.Cloud {
	w := cloudtest.NewCloud(cloud.Network{VPCID: "vpc-fake", CIDRs: []netip.Prefix{netip.MustParsePrefix("192.168.0.0/16")},
		SubnetCIDRs: []netip.Prefix{netip.MustParsePrefix("192.168.1.0/24")}, RouteTables: []string{"vtb-fake"}})
	w.AddInstance("i-fake1", netip.MustParseAddr("192.168.1.10"))
	return w
}

// runFake runs vpcroute with the fake provider registered next to the
// built-in ones, and an empty config file.
func runFake(t *testing.T, w *cloudtest.Cloud, environ map[string]string, args ...string) (string, error) {
	t.Helper()
	reg := providers()
	cloudtest.Register(reg, w) // the one registration line
	return runWith(t, reg, environ, args...)
}

// runWith runs vpcroute with the providers of reg.
func runWith(t *testing.T, reg *cloud.Registry, environ map[string]string, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	root := newRootCommandWith(reg, &stdout, &stderr, env(environ))
	cfg := filepath.Join(t.TempDir(), "empty.yaml")
	if err := os.WriteFile(cfg, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	root.SetArgs(append(args, "--config", cfg))
	err := root.Execute()
	return stdout.String(), err
}

// fakeArgs are the settings of host i-fake1 in the fake world.
var fakeArgs = []string{"--provider", "fake", "--instance-id", "i-fake1", "--subnet", "10.5.0.0/24",
	"--cluster-cidr", "10.0.0.0/8", "--cluster-name", "lab", "--host-config=false", "--log-level", "error"}

func TestProviderRegisteredInATestIsSelectable(t *testing.T) {
	w := fakeWorld()
	out, err := runFake(t, w, nil, append([]string{"sync"}, fakeArgs...)...)
	if err != nil {
		t.Fatalf("sync --provider fake: %v (%s)", err, out)
	}
	rs := w.Table("vtb-fake")
	if len(rs) != 1 || rs[0].Destination != netip.MustParsePrefix("10.5.0.0/24") || rs[0].Target.ID != "i-fake1" || rs[0].Cluster != "lab" {
		t.Fatalf("table after sync = %v, want 10.5.0.0/24 -> i-fake1 owned by lab", rs)
	}
	// The host was prepared (cloud.HostPreparer) before its route was made.
	if calls := w.Calls(); !slices.Equal(calls, []string{"PrepareHost i-fake1", "CreateRoutes vtb-fake"}) {
		t.Errorf("calls = %q, want PrepareHost then CreateRoutes", calls)
	}
	if w.SourceDestCheckOn("i-fake1") {
		t.Error("the source/destination check is still on after sync")
	}
	// A second sync changes nothing.
	if _, err := runFake(t, w, nil, append([]string{"sync"}, fakeArgs...)...); err != nil {
		t.Fatal(err)
	}
	if calls := w.Calls(); len(calls) != 3 || calls[2] != "PrepareHost i-fake1" {
		t.Errorf("calls after a second sync = %q, want one more PrepareHost only", calls)
	}
}

func TestProviderOwnFlagsAreBadInput(t *testing.T) {
	for name, tc := range map[string]struct {
		environ map[string]string
		args    []string
	}{
		"command line": {nil, []string{"--fake-zone", "mars"}},
		"environment":  {map[string]string{"VPCROUTE_FAKE_ZONE": "mars"}, nil},
	} {
		t.Run(name, func(t *testing.T) {
			w := fakeWorld()
			_, err := runFake(t, w, tc.environ, append(append([]string{"plan"}, fakeArgs...), tc.args...)...)
			var ue usageError
			if !errors.As(err, &ue) || err.Error() != `fake-zone "mars" is invalid: expected a zone such as zone-a` {
				t.Errorf("err = %v, want a usage error naming fake-zone", err)
			}
			if calls := w.Calls(); len(calls) != 0 {
				t.Errorf("calls = %q, want none", calls)
			}
		})
	}
	// Another command's flag stays another command's: status reads no
	// provider settings.
	_, err := runFake(t, fakeWorld(), nil, "status", "--fake-zone", "zone-b")
	if err == nil || !strings.Contains(err.Error(), "unknown flag: --fake-zone") {
		t.Errorf("status --fake-zone: %v, want an unknown flag", err)
	}
}

func TestProviderUnknownNamesTheRegistered(t *testing.T) {
	_, err := runFake(t, fakeWorld(), nil, "plan", "--provider", "gcp", "--cluster-cidr", "10.0.0.0/8")
	want := `provider "gcp" is invalid: expected aliyun, aws or fake`
	if err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
	// Without the registration line, fake is no provider.
	_, err = runWith(t, providers(), nil, append([]string{"plan"}, fakeArgs...)...)
	if want := `provider "fake" is invalid: expected aliyun or aws`; err == nil || err.Error() != want {
		t.Errorf("built-in registry: %v, want %q", err, want)
	}
}

// TestProviderDoctorAsksTheRegistry: doctor's source/destination check
// appears because the fake implements cloud.SourceDestChecker, and the
// quota check uses the fake's registered limit.
func TestProviderDoctorAsksTheRegistry(t *testing.T) {
	w := fakeWorld()
	for i := range 9 {
		w.AddRoute(cloud.Route{TableID: "vtb-fake", Destination: netip.PrefixFrom(netip.AddrFrom4([4]byte{172, 16, byte(i), 0}), 24),
			Target: cloud.Target{Kind: cloud.TargetInstance, ID: "i-other"}, Status: cloud.StatusAvailable})
	}
	args := append([]string{"doctor", "-o", "json", "--status-addr", "127.0.0.1:1", "--proc-sys", t.TempDir()}, fakeArgs...)
	out, _ := runFake(t, w, nil, args...) // fails: nothing is set up
	var rep doctorReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("doctor -o json: %v\n%s", err, out)
	}
	if res, cause, _ := rep.check(t, "cloud.source-dest-check"); res != "FAIL" || !strings.Contains(cause, "i-fake1 is on") {
		t.Errorf("cloud.source-dest-check = %s %q, want FAIL for i-fake1", res, cause)
	}
	res, cause, fix := rep.check(t, "routes.quota")
	if res != "WARN" || cause != "vtb-fake holds 9 of 10 fake routes per table (90%): 1 more fit" || fix != cloudtest.Limit.Fix {
		t.Errorf("routes.quota = %s %q %q, want the fake's limit", res, cause, fix)
	}
	if w.SourceDestCheckOn("i-fake1") == false || len(w.Calls()) != 0 {
		t.Errorf("doctor changed the fake cloud: calls %q", w.Calls())
	}
	// A host the cloud does not know: cloud.api fails with the fake's hint.
	args = append(args, "--instance-id", "i-nobody")
	out, _ = runFake(t, w, nil, args...)
	rep = doctorReport{}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("doctor -o json: %v\n%s", err, out)
	}
	if res, _, fix := rep.check(t, "cloud.api"); res != "FAIL" || fix != cloudtest.AccessFix {
		t.Errorf("cloud.api = %s, fix %q; want FAIL with the fake's hint", res, fix)
	}
}
