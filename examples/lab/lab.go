package lab

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"
)

// Host is one simulated cloud host: a network namespace on the vswitch with
// its own dockerd and container.
type Host struct {
	HostPlan
	// Netns is the host's network namespace name.
	Netns string
	// Dir holds the host's dockerd state, sockets and logs.
	Dir string
	// DockerHost is the host's Docker API address ("unix:///…/docker.sock").
	DockerHost string
	// Bip is the bridge address `vpcroute allocate` wrote into the host's
	// daemon.json at boot (see allocate.go), and Subnet the container
	// subnet it implies. Set once before the host's dockerd starts, never
	// changed while the host is in the lab.
	Bip    netip.Prefix
	Subnet netip.Prefix
	// Allocation is allocate's report of that choice ("allocated
	// 10.1.196.0/24 to i-aaa (derived): bip …"); on a lab without the
	// simulator, the lab's own derived choice.
	Allocation string

	mu          sync.Mutex
	containerIP netip.Addr
	baseline    string
	dockerd     *dockerd
	daemon      *daemonProc
}

// ContainerIP is the current address of the host's container.
func (h *Host) ContainerIP() netip.Addr {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.containerIP
}

func (h *Host) setContainerIP(a netip.Addr) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.containerIP = a
}

// BaselineIptables is the host's normalized iptables-save as dockerd alone
// left it, taken once its container was running and before any vpcroute run.
func (h *Host) BaselineIptables() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.baseline
}

func (h *Host) dockerdLog() string { return filepath.Join(h.Dir, "dockerd.log") }

// Lab is a running lab. Its methods are safe for concurrent use, except
// RestartDocker on a host while others use that host, and AddHost and
// RemoveHost, which change Hosts: read Hosts only while neither runs.
type Lab struct {
	// ID is the run's unique id; every name of the run starts with it.
	ID string
	// Dir is the run's temporary directory.
	Dir string
	// Router is the VPC router's network namespace.
	Router string
	// Hosts are the lab's hosts in order of Index. Up makes Hosts[i].Index
	// == i; AddHost appends a host with a new, never reused index and
	// RemoveHost takes one out, so after those use Host(index).
	Hosts []*Host
	// InitialRoutes is GET /sim/v1/routes right after the extra routes were
	// put in, before any vpcroute run (nil without a simulator).
	InitialRoutes []byte

	cfg       Config
	cloud     Cloud // chosen by cfg.Provider
	log       *zap.Logger
	sim       *simProc
	sdc       *sdcGuard // EC2 only: see srcdst.go
	etcd      *etcdProc
	image     []byte // the container image, kept for AddHost
	reaper    *reaper
	hostsMu   sync.Mutex // guards Hosts (the slice is replaced, never changed in place) and nextIndex
	nextIndex int
	races     raceLog
	sigCh     chan os.Signal
	closed    chan struct{}
	closeOnce sync.Once
	closeErr  error
}

// requiredTools are the programs the lab runs; Up checks them first so a
// missing package is one clear error, not a failure halfway.
var requiredTools = []string{"ip", "nsenter", "dockerd", "docker", "containerd", "iptables", "iptables-save", "sh", "awk", "stat"}

// Up builds a lab: namespaces, vswitch, dockerds and containers, the
// simulator when cfg.BinDir is set, and etcd when cfg.Etcd is. Each host
// boots as a real one does: `vpcroute allocate` chooses its bip before its
// dockerd starts (see allocate.go). No other vpcroute command runs yet: see
// Sync, SyncAll and StartDaemon. On any failure it tears down
// what it built and returns the error. The caller must Close the lab.
func Up(ctx context.Context, cfg Config) (*Lab, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("lab config: %w", err)
	}
	if cfg.BinDir != "" {
		// The binaries run through nsenter; a relative path would depend
		// on the caller's working directory (go test runs in the package's).
		abs, err := filepath.Abs(cfg.BinDir)
		if err != nil {
			return nil, fmt.Errorf("lab config: bin dir %q: %w", cfg.BinDir, err)
		}
		cfg.BinDir = abs
	}
	if os.Geteuid() != 0 {
		return nil, errors.New("the lab needs root: it creates network namespaces, runs dockerd and changes iptables inside the namespaces")
	}
	var missing []string
	for _, t := range requiredTools {
		if _, err := exec.LookPath(t); err != nil {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("lab tools missing from PATH: %s (Debian packages: docker.io iptables iproute2 busybox-static)", strings.Join(missing, ", "))
	}
	if cfg.Etcd {
		if _, err := findEtcd(); err != nil {
			return nil, err
		}
	}
	cloud, err := CloudFor(cfg.Provider)
	if err != nil {
		return nil, fmt.Errorf("lab config: %w", err)
	}
	if cloud.SourceDestCheck() {
		if _, err := ebtablesRestore(); err != nil {
			return nil, err
		}
	}
	image, err := busyboxImage()
	if err != nil {
		return nil, err
	}
	id, err := newRunID(cfg.Prefix)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(cfg.WorkDir, id)
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, fmt.Errorf("lab dir: %w", err)
	}
	l := &Lab{
		ID: id, Dir: dir, Router: id + "-r",
		cfg: cfg, cloud: cloud, log: cfg.Logger.With(zap.String("lab", id)),
		closed: make(chan struct{}),
	}
	// The reaper comes before anything it would have to clean.
	if l.reaper, err = startReaper(id, dir); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	if !cfg.NoSignalHandler {
		l.handleSignals()
	}
	l.image = image
	if err := l.build(ctx); err != nil {
		return nil, errors.Join(err, l.Close())
	}
	return l, nil
}

// build does Up's work; Up tears down on error.
func (l *Lab) build(ctx context.Context) error {
	start := time.Now()
	var hosts []*Host
	for i := 0; i < l.cfg.Hosts; i++ {
		h, err := l.newHost(i)
		if err != nil {
			return err
		}
		hosts = append(hosts, h)
	}
	l.setHosts(hosts, l.cfg.Hosts)
	if err := l.setupRouter(ctx); err != nil {
		return err
	}
	for _, h := range hosts {
		if err := l.setupHostNetns(ctx, h); err != nil {
			return err
		}
	}
	l.log.Info("namespaces ready", zap.Duration("elapsed", time.Since(start)))
	// The control plane comes before Docker: each host runs `vpcroute
	// allocate` against the simulator (and etcd) before its dockerd starts,
	// as vpcroute-allocate.service does at boot.
	if err := l.startControlPlane(ctx); err != nil {
		return err
	}
	// Hosts boot in parallel: their allocations race for leases as hosts
	// booting together would, and each dockerd takes a moment to come up.
	if err := l.eachHost(func(h *Host) error { return l.startHostDocker(ctx, h) }); err != nil {
		return err
	}
	l.log.Info("lab up", zap.Duration("elapsed", time.Since(start)))
	return nil
}

// startControlPlane starts the simulator with the extra routes, the
// source/destination guard on EC2 and etcd, when the lab has them.
func (l *Lab) startControlPlane(ctx context.Context) error {
	if l.cfg.BinDir == "" {
		return nil
	}
	if err := os.WriteFile(filepath.Join(l.Dir, "vpcroute.yaml"), []byte("{}\n"), 0o644); err != nil {
		return fmt.Errorf("vpcroute config: %w", err)
	}
	if err := l.startSim(ctx); err != nil {
		return err
	}
	for _, r := range l.cfg.ExtraRoutes {
		if err := l.SimPutRoute(ctx, r); err != nil {
			return err
		}
	}
	routes, err := l.SimRoutesJSON(ctx)
	if err != nil {
		return err
	}
	l.InitialRoutes = routes
	if l.cloud.SourceDestCheck() {
		if err := l.startSourceDestGuard(ctx); err != nil {
			return err
		}
	}
	if l.cfg.Etcd {
		return l.startEtcd(ctx)
	}
	return nil
}

// newHost lays out host i: its plan, namespace name and directory.
func (l *Lab) newHost(i int) (*Host, error) {
	p, err := l.cloud.planHost(i)
	if err != nil {
		return nil, err
	}
	h := &Host{HostPlan: p, Netns: fmt.Sprintf("%s-h%d", l.ID, i), Dir: filepath.Join(l.Dir, fmt.Sprintf("h%d", i))}
	h.DockerHost = "unix://" + filepath.Join(h.Dir, "docker.sock")
	if err := os.Mkdir(h.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("host dir: %w", err)
	}
	return h, nil
}

// startHostDocker boots h: `vpcroute allocate` writes its bip into
// daemon.json, then its dockerd and container start, and the iptables
// baseline is taken: what dockerd alone set up, before any vpcroute run
// that changes the host (allocate changes only daemon.json).
func (l *Lab) startHostDocker(ctx context.Context, h *Host) error {
	if err := l.allocateHost(ctx, h); err != nil {
		return err
	}
	if err := l.startDockerd(ctx, h); err != nil {
		return err
	}
	if err := l.startContainer(ctx, h, l.image); err != nil {
		return err
	}
	base, err := l.IptablesSave(ctx, h)
	if err != nil {
		return err
	}
	h.mu.Lock()
	h.baseline = base
	h.mu.Unlock()
	return nil
}

// eachHost runs f for every host concurrently and joins the errors.
func (l *Lab) eachHost(f func(h *Host) error) error {
	hosts := l.hostList()
	errs := make([]error, len(hosts))
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f(h)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// handleSignals tears the lab down on Ctrl-C, SIGTERM and SIGHUP, then
// exits with status 130, so an interrupted demo or test leaves nothing.
func (l *Lab) handleSignals() {
	l.sigCh = make(chan os.Signal, 1)
	signal.Notify(l.sigCh, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		select {
		case s := <-l.sigCh:
			fmt.Fprintf(os.Stderr, "lab %s: caught %s, tearing down\n", l.ID, s)
			if err := l.Close(); err != nil {
				fmt.Fprintf(os.Stderr, "lab %s: teardown: %v\n", l.ID, err)
			}
			os.Exit(130)
		case <-l.closed:
		}
	}()
}

// Close tears the lab down: vpcroute daemons stopped, containers removed,
// dockerds, the simulator and etcd stopped, then the sweep removes whatever
// is left (processes in the lab's namespaces, mounts, namespaces, the run
// directory). It is idempotent and reports anything that survived.
func (l *Lab) Close() error {
	l.closeOnce.Do(func() {
		l.closeErr = l.teardown()
		close(l.closed)
	})
	return l.closeErr
}

func (l *Lab) teardown() error {
	start := time.Now()
	if l.sigCh != nil {
		signal.Stop(l.sigCh)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var errs []error
	// vpcroute daemons first: they would only log errors about Docker,
	// etcd and the simulator going away.
	errs = append(errs, l.stopAllDaemons())
	// Graceful next: removing the containers through their daemon lets
	// containerd unmount and release everything cleanly.
	errs = append(errs, l.eachHost(func(h *Host) error { return l.stopHostDocker(ctx, h) }))
	l.stopSourceDestGuard() // it reads the simulator
	errs = append(errs, l.stopSim(5*time.Second), l.stopEtcd(5*time.Second))
	// Every vpcroute process has ended: a race one of them reported, even
	// one no test looked for, fails the teardown.
	errs = append(errs, racesError(l.RaceReports()))
	if err := sweep(ctx, l.ID, l.Dir); err != nil {
		errs = append(errs, err)
	}
	if l.reaper != nil {
		errs = append(errs, l.reaper.dismiss())
	}
	if left := Leftovers(l.cfg.WorkDir, l.ID); len(left) > 0 {
		errs = append(errs, fmt.Errorf("lab %s: left behind after teardown: %s", l.ID, strings.Join(left, "; ")))
	}
	l.log.Info("lab down", zap.Duration("elapsed", time.Since(start)))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("teardown %s: %w", l.ID, err)
	}
	return nil
}

// stopHostDocker removes h's container through its dockerd, then stops the
// dockerd; a dockerd that is not running is left alone.
func (l *Lab) stopHostDocker(ctx context.Context, h *Host) error {
	if h.dockerd == nil {
		return nil
	}
	select {
	case <-h.dockerd.exited:
		return nil
	default:
	}
	rmCtx, rmCancel := context.WithTimeout(ctx, 15*time.Second)
	defer rmCancel()
	var err error
	if _, e := l.docker(rmCtx, h, nil, "rm", "-f", containerName); e != nil && !strings.Contains(e.Error(), "No such container") {
		err = fmt.Errorf("remove container on %s: %w", h.Name, e)
	}
	return errors.Join(err, l.stopDockerd(h, 15*time.Second))
}

func zapHost(h *Host) zap.Field { return zap.String("host", h.Name) }

func zapArgs(sub string, extra []string) zap.Field {
	return zap.Strings("args", append([]string{sub}, extra...))
}
