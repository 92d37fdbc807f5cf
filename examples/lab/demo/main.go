// Command demo is `make demo`: it builds a small cloud on this machine
// (network namespaces, a real dockerd per host, a simulated VPC whose route
// table moves real packets, a real etcd), shows that containers on
// different hosts cannot reach each other, starts `vpcroute daemon` on
// every host, and then follows the cluster as a host joins and another
// leaves. It narrates every step with numbers, tears everything down, and
// exits 0 only when every step held.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/vpcroute/vpcroute/examples/lab"
)

// options are the demo's flags.
type options struct {
	provider     string
	cloud        lab.Cloud // chosen by provider
	hosts        int
	binDir       string
	workDir      string
	pendingDelay time.Duration
	allocator    string
	keep         bool
	verbose      bool
}

func main() {
	var o options
	flag.StringVar(&o.provider, "provider", lab.Clouds()[0].Name(), "the cloud to simulate: "+cloudChoices())
	flag.IntVar(&o.hosts, "hosts", 2, fmt.Sprintf("number of cloud hosts at the start (2 to %d; one more joins during the demo)", lab.MaxHosts-1))
	flag.StringVar(&o.binDir, "bin-dir", "", "directory with prebuilt vpcroute and vpcroute-sim (default: build them now)")
	flag.StringVar(&o.workDir, "work-dir", "/tmp", "parent of the lab's temporary directory (keep it short: sockets live below it)")
	flag.DurationVar(&o.pendingDelay, "pending-delay", 500*time.Millisecond, "how long the simulated VPC keeps a new route entry Pending")
	flag.StringVar(&o.allocator, "allocator", "", "the --allocator of every host's `vpcroute allocate` at boot: leased (etcd, the default in the demo) or derived (from the private IP)")
	flag.BoolVar(&o.keep, "keep", false, "keep the lab (daemons included) up after the demo, for poking around, until Ctrl-C")
	flag.BoolVar(&o.verbose, "v", false, "log every lab step to stderr")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "demo: unexpected argument %q (want flags only, see -h)\n", flag.Arg(0))
		os.Exit(2)
	}
	cloud, err := lab.CloudFor(o.provider)
	if err != nil {
		fmt.Fprintf(os.Stderr, "demo: --provider %q is invalid: want %s\n", o.provider, lab.CloudNames())
		os.Exit(2)
	}
	o.cloud = cloud
	if o.allocator != "" && o.allocator != "leased" && o.allocator != "derived" {
		fmt.Fprintf(os.Stderr, "demo: --allocator %q is invalid: want leased or derived\n", o.allocator)
		os.Exit(2)
	}
	if o.hosts < 2 || o.hosts > lab.MaxHosts-1 {
		fmt.Fprintf(os.Stderr, "demo: --hosts %d is invalid: want 2 to %d (one more host joins during the demo)\n", o.hosts, lab.MaxHosts-1)
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
	begin := time.Now()

	say("vpcroute demo on %s: %d cloud hosts in one VPC, each running Docker. Can their containers reach each other,", o.cloud.Title(), o.hosts)
	say("and do they keep reaching each other while hosts come and go?")
	say("")
	if o.binDir == "" {
		dir, err := buildBinaries(ctx)
		if err != nil {
			return false, err
		}
		defer os.RemoveAll(dir)
		o.binDir = dir
	}

	say("[2/9] Building the lab: network namespaces on this machine; the machine's own network is not touched.")
	start := time.Now()
	l, err := lab.Up(ctx, lab.Config{
		Provider: o.provider, Hosts: o.hosts, BinDir: o.binDir, WorkDir: o.workDir, PendingDelay: o.pendingDelay,
		ExtraRoutes: o.cloud.DemoRoutes(), Etcd: true, Allocator: o.allocator, Logger: logger,
		NoSignalHandler: true, // ctx carries the signals; see main
	})
	if err != nil {
		return false, err
	}
	defer func() {
		say("")
		say("Tearing down the lab (daemons, dockerds, containers, etcd, simulator, namespaces) ...")
		if err := l.Close(); err != nil {
			say("teardown problem: %v", err)
			return
		}
		say("Done; nothing left behind.")
	}()
	for _, line := range o.cloud.DescribeNetwork(l.EtcdEndpoint()) {
		say("      %s", line)
	}
	say("      No host was given a bip. Each booted as vpcroute-allocate.service boots it: `vpcroute allocate`")
	say("      chose its subnet in the cluster CIDR %s, clear of the VPC, and wrote the bip into its", lab.ClusterCIDR)
	say("      daemon.json before its dockerd started. The allocation (private IP -> subnet):")
	printAllocations(l.Hosts)
	for _, h := range l.Hosts {
		say("      %s %s, %s: its own dockerd with bip %s, one container at %s", h.Name, h.IP, instanceLabel(h), h.Bip, h.ContainerIP())
	}
	say("      Ready in %s.", since(start))
	say("")

	if err := showTable(ctx, l, "[3/9] The VPC route table holds entries vpcroute does not own; it must leave them alone:"); err != nil {
		return false, err
	}
	if o.cloud.SourceDestCheck() {
		if err := showENIs(ctx, l, "      Each host's primary ENI, as EC2 launched it:"); err != nil {
			return false, err
		}
	}
	say("")

	say("[4/9] Before vpcroute: can each container (and each host) reach the containers on other hosts?")
	m, err := l.Matrix(ctx)
	if err != nil {
		return false, err
	}
	printIndented(m.String())
	okCount, total := m.CrossHost()
	say("      %d of %d cross-host paths work. The VPC router does not know which host holds which container", okCount, total)
	say("      subnet, and Docker drops forwarded packets (FORWARD policy DROP) and rewrites container sources.")
	say("")

	s := &story{l: l, o: o}
	if err := s.tell(ctx); err != nil {
		return false, err
	}
	ok := s.result(time.Since(begin))
	if o.keep {
		keep(ctx, l)
	}
	return ok, nil
}

// buildBinaries is step 1: go build into a temporary directory.
func buildBinaries(ctx context.Context) (string, error) {
	say("[1/9] Building vpcroute and vpcroute-sim ...")
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
	say("      done in %s.", since(start))
	say("")
	return dir, nil
}

// keep waits for Ctrl-C with the lab up; run's deferred teardown follows.
func keep(ctx context.Context, l *lab.Lab) {
	say("")
	say("--keep: the lab stays up, daemons running, until Ctrl-C. Try:")
	for _, h := range l.Hosts {
		say("  nsenter --net=/var/run/netns/%s iptables-save         # %s's rules", h.Netns, h.Name)
		say("  nsenter --net=/var/run/netns/%s %s/vpcroute status --status-addr %s   # %s's daemon", h.Netns, l.BinDir(), lab.DaemonStatusAddr, h.Name)
		say("  docker -H %s exec -it lab sh   # %s's container", h.DockerHost, h.Name)
		say("  less %s   # %s's daemon log", h.DaemonLog(), h.Name)
	}
	say("  ip -n %s route                 # the VPC router", l.Router)
	say("  simulator API: %s, etcd: %s (from a host namespace)", l.SimEndpoint(), l.EtcdEndpoint())
	<-ctx.Done()
}
