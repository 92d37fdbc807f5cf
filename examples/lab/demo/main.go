// Command demo is `make demo`: it builds a two-host cloud lab on this
// machine (network namespaces, a real dockerd per host, a simulated VPC
// whose route table moves real packets), shows that containers on different
// hosts cannot reach each other, runs `vpcroute sync` on every host, shows
// that every pair now can, and tears everything down. It exits 0 only when
// every path works.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/vpcroute/vpcroute/examples/lab"
)

// options are the demo's flags.
type options struct {
	hosts        int
	binDir       string
	workDir      string
	pendingDelay time.Duration
	keep         bool
	verbose      bool
}

func main() {
	var o options
	flag.IntVar(&o.hosts, "hosts", 2, "number of cloud hosts (2 to 26)")
	flag.StringVar(&o.binDir, "bin-dir", "", "directory with prebuilt vpcroute and vpcroute-sim (default: build them now)")
	flag.StringVar(&o.workDir, "work-dir", "/tmp", "parent of the lab's temporary directory (keep it short: sockets live below it)")
	flag.DurationVar(&o.pendingDelay, "pending-delay", 500*time.Millisecond, "how long the simulated VPC keeps a new route entry Pending")
	flag.BoolVar(&o.keep, "keep", false, "keep the lab up after the demo, for poking around, until Ctrl-C")
	flag.BoolVar(&o.verbose, "v", false, "log every lab step to stderr")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "demo: unexpected argument %q (want flags only, see -h)\n", flag.Arg(0))
		os.Exit(2)
	}
	// Ctrl-C, SIGTERM and SIGHUP cancel ctx: every step stops, and the
	// deferred teardown in run removes the lab and the built binaries.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	ok, err := run(ctx, o)
	// With --keep, Ctrl-C is how a finished demo ends: report its result.
	interrupted := ctx.Err() != nil && !(o.keep && err == nil)
	stop()
	if interrupted {
		fmt.Fprintln(os.Stderr, "\ndemo interrupted; the lab was torn down")
		os.Exit(130)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "\ndemo failed: %v\n", err)
		os.Exit(1)
	}
	if !ok {
		os.Exit(1)
	}
}

// say prints one narration line.
func say(format string, args ...any) { fmt.Printf(format+"\n", args...) }

func run(ctx context.Context, o options) (bool, error) {
	if os.Geteuid() != 0 {
		return false, errors.New("run as root: the lab creates network namespaces and runs dockerd (try: sudo make demo)")
	}
	logger := zap.NewNop()
	if o.verbose {
		l, err := zap.NewDevelopment()
		if err != nil {
			return false, fmt.Errorf("logger: %w", err)
		}
		logger = l
	}

	say("vpcroute demo: %d cloud hosts in one VPC, each running Docker. Can their containers reach each other?", o.hosts)
	say("")
	if o.binDir == "" {
		dir, err := buildBinaries(ctx)
		if err != nil {
			return false, err
		}
		defer os.RemoveAll(dir)
		o.binDir = dir
	}

	say("[2/6] Building the lab: network namespaces on this machine; the machine's own network is not touched.")
	start := time.Now()
	l, err := lab.Up(ctx, lab.Config{
		Hosts: o.hosts, BinDir: o.binDir, WorkDir: o.workDir, PendingDelay: o.pendingDelay,
		ExtraRoutes: []lab.SimRoute{lab.VPNRoute}, Logger: logger,
		NoSignalHandler: true, // ctx carries the signals; see main
	})
	if err != nil {
		return false, err
	}
	defer func() {
		say("")
		say("Tearing down the lab (dockerds, containers, simulator, namespaces) ...")
		if err := l.Close(); err != nil {
			say("teardown problem: %v", err)
			return
		}
		say("Done; nothing left behind.")
	}()
	say("      VPC %s, vswitch %s, VPC router %s running vpcroute-sim (the cloud's API and metadata;", lab.VPCCIDR, lab.VSwitchCIDR, lab.RouterIP)
	say("      its route table becomes the router's kernel routes, so it really moves packets).")
	for _, h := range l.Hosts {
		say("      %s %s, instance %s: its own dockerd with bip %s, one container at %s", h.Name, h.IP, h.InstanceID, h.Bip, h.ContainerIP())
	}
	say("      Ready in %s.", time.Since(start).Round(100*time.Millisecond))
	say("")

	if err := showTable(ctx, l, "[3/6] The VPC route table holds entries vpcroute does not own; it must leave them alone:"); err != nil {
		return false, err
	}
	say("")

	say("[4/6] Before vpcroute: can each container (and each host) reach the containers on other hosts?")
	m, err := l.Matrix(ctx)
	if err != nil {
		return false, err
	}
	printIndented(m.String())
	okCount, total := m.CrossHost()
	say("      %d of %d cross-host paths work. The VPC router does not know which host holds which container", okCount, total)
	say("      subnet, and Docker drops forwarded packets (FORWARD policy DROP) and rewrites container sources.")
	say("")

	return syncAndCheck(ctx, l, o)
}

// buildBinaries is step 1: go build into a temporary directory.
func buildBinaries(ctx context.Context) (string, error) {
	say("[1/6] Building vpcroute and vpcroute-sim ...")
	start := time.Now()
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("working directory: %w", err)
	}
	mod, err := lab.ModuleDir(ctx, wd)
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "vpcroute-demo-bin-")
	if err != nil {
		return "", fmt.Errorf("temp dir for binaries: %w", err)
	}
	if err := lab.BuildBinaries(ctx, mod, dir); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	say("      done in %s.", time.Since(start).Round(100*time.Millisecond))
	say("")
	return dir, nil
}

// syncAndCheck is steps 5 and 6: sync everywhere, then prove the data path.
func syncAndCheck(ctx context.Context, l *lab.Lab, o options) (bool, error) {
	a, b := l.Hosts[0], l.Hosts[1]
	say("[5/6] Running `vpcroute sync` on every host at the same time, as cloud-init would at boot.")
	say("      Each one reads its Docker bip, enables ip_forward, adds narrow iptables rules, and writes")
	say("      \"bip subnet -> this instance\" into the VPC route table, waiting until the entry is Available.")
	watch, err := l.WatchPing(ctx, a, b.ContainerIP(), 120*time.Second)
	if err != nil {
		return false, err
	}
	start := time.Now()
	res, syncErr := l.SyncAll(ctx)
	for _, r := range res {
		if r.Err == nil {
			say("      %s: ok in %s", r.Host.Name, r.Duration.Round(10*time.Millisecond))
			continue
		}
		say("      %s: FAILED after %s; the end of its output:", r.Host.Name, r.Duration.Round(10*time.Millisecond))
		printIndented(lastLines(r.Err, 5))
	}
	var first time.Duration
	select {
	case t := <-watch.First:
		first = t.Sub(start)
	case <-time.After(10 * time.Second):
	}
	if err := watch.Stop(ctx); err != nil {
		say("      (stopping the ping watch: %v)", err)
	}
	if syncErr != nil {
		return false, errors.New("vpcroute sync failed (its output is above)")
	}
	if err := showTable(ctx, l, "      The route table now:"); err != nil {
		return false, err
	}
	kernel, err := l.RouterRoutes(ctx)
	if err != nil {
		return false, err
	}
	say("      The VPC router's kernel routes (what actually moves packets):")
	printIndented(kernel)
	if first > 0 {
		say("      First cross-host ping (container0 -> container1) answered %s after sync started.", first.Round(10*time.Millisecond))
	} else {
		say("      No cross-host ping (container0 -> container1) answered within 10s after sync returned.")
	}
	say("")

	say("[6/6] After vpcroute: the same probes again.")
	m, err := l.Matrix(ctx)
	if err != nil {
		return false, err
	}
	printIndented(m.String())
	okCount, total := m.CrossHost()
	say("      %d of %d cross-host paths work.", okCount, total)
	peer, perr := l.PeerAddr(ctx, lab.ContainerEndpoint(a), b)
	sourceOK := perr == nil && peer == a.ContainerIP()
	switch {
	case perr != nil:
		say("      Source check failed: %v", perr)
	case sourceOK:
		say("      Source check: %s's container sees the connection from %s's container coming from %s,", b.Name, a.Name, peer)
		say("      the container's own address, not its host's %s: no NAT inside the cluster.", a.IP)
	default:
		say("      Source check FAILED: %s's container sees %s, want %s's container address %s.", b.Name, peer, a.Name, a.ContainerIP())
	}
	full := m.Full() && sourceOK && first > 0
	say("")
	if full {
		say("RESULT: PASS - every container reaches every other across hosts, both ways, and every host reaches")
		say("        every remote container, with the real source address.")
	} else {
		say("RESULT: FAIL - the matrix above is not full (or the source address is wrong).")
	}
	if o.keep {
		keep(ctx, l)
	}
	return full, nil
}

// keep waits for Ctrl-C with the lab up; run's deferred teardown follows.
func keep(ctx context.Context, l *lab.Lab) {
	say("")
	say("--keep: the lab stays up until Ctrl-C. Try:")
	for _, h := range l.Hosts {
		say("  nsenter --net=/var/run/netns/%s iptables-save         # %s's rules", h.Netns, h.Name)
		say("  docker -H %s exec -it lab sh   # %s's container", h.DockerHost, h.Name)
	}
	say("  ip -n %s route                 # the VPC router", l.Router)
	say("  simulator API: %s (from a host namespace)", l.SimEndpoint())
	<-ctx.Done()
}

// showTable prints the route table's non-system entries.
func showTable(ctx context.Context, l *lab.Lab, title string) error {
	entries, err := l.SimEntries(ctx)
	if err != nil {
		return err
	}
	say("%s", title)
	for _, e := range entries {
		if e.Type == "System" {
			continue
		}
		label := e.Name
		if label == "" {
			label = e.Description
		}
		say("      %-16s -> %-10s %-8s %-10s %s", e.Destination, e.NextHopType, e.NextHopID, e.Status, label)
	}
	return nil
}

func printIndented(s string) {
	for _, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		say("      %s", strings.TrimRight(line, " "))
	}
}

// lastLines is the end of a failed command's output (vpcroute puts the
// cause last), or the error itself.
func lastLines(err error, n int) string {
	var ce *lab.CmdError
	if !errors.As(err, &ce) || strings.TrimSpace(ce.Output) == "" {
		return err.Error()
	}
	lines := strings.Split(strings.TrimSpace(ce.Output), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
