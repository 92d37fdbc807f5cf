package lab_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/examples/lab"
	"github.com/vpcroute/vpcroute/internal/testsupport"
)

// The end-to-end tests share one lab per test binary: bringing up dockerds
// costs seconds, and every test puts the lab back into the state it needs
// first (ensureSynced, resetToUnsynced, ensureDaemons), so they do not
// depend on order. The sync tests stop any running daemon first; the
// daemon tests start them on every host and leave them running.
//
// e2eHosts is three, not two, so that "exactly that host's subnet becomes
// unreachable" has a pair of other hosts that must keep working.
const e2eHosts = 3

// legacyRoute is an unowned entry inside the cluster CIDR pointing at a lab
// instance, as an operator's hand-made route would: the most tempting one
// for a buggy reconciler to delete or take over.
var legacyRoute = lab.SimRoute{
	Table: lab.RouteTableID, Destination: "10.99.0.0/24",
	NextHopType: "Instance", NextHopID: "i-aaa", Name: "legacy-manual",
	Description: "added by hand in the console",
}

// e2eDaemon are the daemon timings of the e2e lab: the lab's demo defaults
// except a 2 s host check (the flushed-chain test waits for it) and a 5 s
// resync (the vanished-host test waits for one after --silent-after).
var e2eDaemon = lab.DaemonConfig{HostCheckInterval: 2 * time.Second, ResyncInterval: 5 * time.Second}

// unownedRoutes are every unowned entry in the e2e lab's table.
var unownedRoutes = []lab.SimRoute{lab.InternetRoute, lab.VPNRoute, legacyRoute}

var shared struct {
	once sync.Once
	lab  *lab.Lab
	err  error
}

// bins are the vpcroute and vpcroute-sim binaries every e2e lab of the
// test binary runs, built once.
var bins struct {
	once  sync.Once
	dir   string
	err   error
	built bool // removed after the run when we built it
}

// TestMain tears the shared lab down after every test, whatever happened to
// them; the lab's reaper covers the cases where this never runs (panic,
// test timeout, SIGKILL).
func TestMain(m *testing.M) {
	code := m.Run()
	if shared.lab != nil {
		if err := shared.lab.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "e2e lab teardown: %v\n", err)
			code = 1
		}
	}
	if bins.built {
		if err := os.RemoveAll(bins.dir); err != nil {
			fmt.Fprintf(os.Stderr, "remove built binaries: %v\n", err)
		}
	}
	os.Exit(code)
}

// labBinaries returns the directory of vpcroute and vpcroute-sim: $LAB_BIN_DIR,
// or a build of this checkout made on first use.
func labBinaries(t *testing.T) string {
	t.Helper()
	bins.once.Do(func() {
		if bins.dir = os.Getenv("LAB_BIN_DIR"); bins.dir != "" {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		dir, err := os.MkdirTemp("", "vpcroute-lab-bin-")
		if err != nil {
			bins.err = err
			return
		}
		bins.dir, bins.built = dir, true
		start := time.Now()
		// With -race when this test binary has it: the lab's daemons run
		// under the race detector and failOnRaces reads their reports.
		bins.err = testsupport.BuildBinaries(ctx, bins.dir, testsupport.VpcroutePkg, testsupport.VpcrouteSimPkg)
		if bins.err == nil {
			fmt.Fprintf(os.Stderr, "e2e: built vpcroute and vpcroute-sim (race detector %v) in %s\n", testsupport.Race, time.Since(start).Round(time.Millisecond))
		}
	})
	if bins.err != nil {
		t.Fatalf("e2e binaries: %v", bins.err)
	}
	return bins.dir
}

// sharedLab brings the e2e lab up on first use: it builds vpcroute and
// vpcroute-sim (or uses $LAB_BIN_DIR), then starts three hosts and the
// simulator with the unowned entries in place before any vpcroute run.
func sharedLab(t *testing.T) *lab.Lab {
	t.Helper()
	needRoot(t)
	binDir := labBinaries(t)
	shared.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		start := time.Now()
		shared.lab, shared.err = lab.Up(ctx, lab.Config{
			Hosts:       e2eHosts,
			BinDir:      binDir,
			Prefix:      "vre",
			ExtraRoutes: []lab.SimRoute{lab.VPNRoute, legacyRoute},
			Etcd:        true,
			Daemon:      e2eDaemon,
			Logger:      testLogger(),
		})
		if shared.err == nil {
			fmt.Fprintf(os.Stderr, "e2e: lab %s up in %s\n", shared.lab.ID, time.Since(start).Round(time.Millisecond))
		}
	})
	if shared.err != nil {
		t.Fatalf("e2e lab: %v", shared.err)
	}
	failOnRaces(t, shared.lab)
	return shared.lab
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}
