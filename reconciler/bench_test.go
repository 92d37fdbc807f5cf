package reconciler_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/cloud/aliyun"
	"github.com/vpcroute/vpcroute/cloud/sim"
	"github.com/vpcroute/vpcroute/reconciler"
)

// These benchmarks run the real reconcile loop through the real Alibaba
// provider and SDK against the simulator on loopback, paced as Alibaba
// paces route changes: one change per VPC at a time (a concurrent change
// gets IncorrectRouteEntryStatus), every entry Pending for 2 s, at most 50
// entries per call. Each iteration waits for real simulated time, so one
// iteration is several seconds: run them with -benchtime=1x (see
// BENCHMARKS.md). Hosts are fed to Loop.Pass (or Loop.Run) directly; no
// registry is involved.

const (
	benchRegion  = "cn-zhangjiakou"
	benchVPC     = "vpc-bench"
	benchTable   = "vtb-bench"
	benchCluster = "bench"
	// benchPending is Alibaba's Pending period as the simulator plays it.
	benchPending = 2 * time.Second
	// benchBatch is the most entries one CreateRouteEntries call takes.
	benchBatch = 50
	// benchQuota is the table's custom-entry quota: the default 200 cannot
	// hold 200 hosts plus the unowned NAT entry plus the joining host, so
	// the table is given a raised quota, as an operator running 200 hosts
	// would have to request.
	benchQuota = 210
	// benchListPage is the page size the provider asks for when listing.
	benchListPage = 100
)

// benchHostCounts are the cluster sizes measured.
var benchHostCounts = []int{10, 100, 200}

var benchClusterCIDR = netip.MustParsePrefix("10.0.0.0/8")

// benchTopologyWith is one VPC with one System route table holding an
// unowned NAT entry, instances i-bench-1 .. i-bench-<instances>, and
// changes Pending for pending. Tables beyond the first are Custom tables
// vtb-bench-2 .. vtb-bench-<tables>, each bound to a vswitch of its own.
func benchTopologyWith(instances int, pending time.Duration, tables int) sim.Topology {
	t := sim.Topology{
		Region:    benchRegion,
		VPC:       &sim.VPCSpec{ID: benchVPC, CIDR: "192.168.0.0/16"},
		VSwitches: []sim.VSwitchSpec{{ID: "vsw-bench", CIDR: "192.168.0.0/20"}},
		RouteTables: []sim.RouteTableSpec{{ID: benchTable, Type: "System", Routes: []sim.RouteSpec{
			{Destination: "0.0.0.0/0", NextHopType: "NatGateway", NextHopID: "ngw-bench", Name: "internet"},
		}}},
		Credentials: []sim.CredentialSpec{{AccessKeyID: "LTAI-test", AccessKeySecret: "test-secret"}},
		Behaviour: sim.Behaviour{PendingDelay: &pending, Quota: benchQuota,
			ConflictCode: sim.CodeIncorrectEntryStatus},
	}
	for i := 2; i <= tables; i++ {
		vsw := fmt.Sprintf("vsw-bench-%d", i)
		t.VSwitches = append(t.VSwitches, sim.VSwitchSpec{ID: vsw, CIDR: fmt.Sprintf("192.168.%d.0/20", 16*(i-1))})
		t.RouteTables = append(t.RouteTables, sim.RouteTableSpec{ID: fmt.Sprintf("%s-%d", benchTable, i), Type: "Custom", VSwitches: []string{vsw}})
	}
	for i := 1; i <= instances; i++ {
		t.Instances = append(t.Instances, sim.InstanceSpec{ID: benchInstance(i), PrivateIP: benchHostIP(i).String(), VSwitch: "vsw-bench"})
	}
	return t
}

func benchInstance(i int) string { return fmt.Sprintf("i-bench-%d", i) }

func benchHostIP(i int) netip.Addr {
	n := 10 + i
	return netip.AddrFrom4([4]byte{192, 168, byte(n / 256), byte(n % 256)})
}

// benchSubnet is host i's container subnet, 10.<i/256>.<i%256>.0/24.
func benchSubnet(i int) netip.Prefix {
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i / 256), byte(i % 256), 0}), 24)
}

// benchHosts returns the registry records of hosts 1..n, freshly seen.
func benchHosts(n int) []reconciler.Host {
	now := time.Now()
	since := now.Add(-time.Hour)
	hosts := make([]reconciler.Host, 0, n)
	for i := 1; i <= n; i++ {
		hosts = append(hosts, reconciler.Host{
			Instance:   benchInstance(i),
			Target:     cloud.Target{Kind: cloud.TargetInstance, ID: benchInstance(i)},
			PrivateIP:  benchHostIP(i),
			Subnets:    []reconciler.Claim{{Subnet: benchSubnet(i), Since: since.Add(time.Duration(i) * time.Millisecond)}},
			HostConfig: "disabled",
			Version:    "bench",
			LastSeen:   now,
			Order:      int64(i),
		})
	}
	return hosts
}

// benchWorld is a simulator with n hosts' instances (plus one more, the
// host that joins) and a provider and loop pointed at it.
type benchWorld struct {
	n        int
	tables   int // route tables, each holding every host's route
	srv      *sim.Server
	http     *httptest.Server
	provider *aliyun.Provider
	loop     *reconciler.Loop
	hosts    []reconciler.Host
}

// newBenchWorld starts an empty world for n hosts. The caller closes it.
func newBenchWorld(b *testing.B, n int) *benchWorld {
	return newBenchWorldWith(b, n, benchPending, 1)
}

// newBenchWorldWith is newBenchWorld with the given Pending period and
// number of route tables.
func newBenchWorldWith(b *testing.B, n int, pending time.Duration, tables int) *benchWorld {
	b.Helper()
	srv, err := sim.New(benchTopologyWith(n+1, pending, tables))
	if err != nil {
		b.Fatalf("start simulator: %v", err)
	}
	hs := httptest.NewServer(srv.Handler())
	w := &benchWorld{n: n, tables: tables, srv: srv, http: hs, hosts: benchHosts(n)}
	w.provider, err = newBenchProvider(hs.URL)
	if err != nil {
		w.close()
		b.Fatalf("provider: %v", err)
	}
	w.loop, err = newBenchLoop(w.provider, nil)
	if err != nil {
		w.close()
		b.Fatalf("loop: %v", err)
	}
	return w
}

// newBenchProvider is the real Alibaba provider for i-bench-1, every
// endpoint the simulator's. Its identity is given, so it never asks
// metadata; the metadata endpoint is the simulator's all the same.
func newBenchProvider(url string) (*aliyun.Provider, error) {
	return aliyun.New(context.Background(), aliyun.Options{
		Settings: cloud.Settings{
			Endpoint:         url,
			MetadataEndpoint: url + "/sim/v1/instances/" + benchInstance(1),
			Region:           benchRegion,
			InstanceID:       benchInstance(1),
			VPCID:            benchVPC,
			PrivateIP:        benchHostIP(1),
			Cluster:          benchCluster,
		},
	})
}

// newBenchLoop is a leader's loop with the daemon's defaults (debounce 1 s).
func newBenchLoop(p cloud.Provider, onReport func(reconciler.Report)) (*reconciler.Loop, error) {
	return reconciler.NewLoop(reconciler.LoopConfig{
		Cluster: benchCluster, ClusterCIDR: benchClusterCIDR, Provider: p,
		Identity: benchInstance(1), OnReport: onReport,
	})
}

func (w *benchWorld) close() {
	w.http.Close()
	_ = w.srv.Close()
}

// converge runs the start pass and checks every host's route is Available.
func (w *benchWorld) converge(b *testing.B) {
	b.Helper()
	rep := w.loop.Pass(context.Background(), w.hosts, "start")
	want := w.n * w.tables
	if rep.Result != reconciler.ResultOK || rep.Created != want {
		b.Fatalf("start pass: result %s, created %d of %d: %s", rep.Result, rep.Created, want, rep.Error)
	}
	if got := w.available(); got != want {
		b.Fatalf("after the start pass %d of %d routes are Available", got, want)
	}
}

// available counts the owned entries that are Available and point at the
// right instance, as the simulator (not the provider) sees them.
func (w *benchWorld) available() int {
	want := map[string]string{}
	for _, h := range w.hosts {
		want[h.Subnets[0].Subnet.String()] = h.Instance
	}
	n := 0
	for _, t := range w.srv.Routes() {
		for _, e := range t.Entries {
			if strings.HasPrefix(e.Name, "vpcroute-") && e.Status == sim.StatusAvailable && want[e.Destination] == e.NextHopID {
				n++
			}
		}
	}
	return n
}

// entryStatus is the simulator's status of the entry for dest ("" if none).
func (w *benchWorld) entryStatus(dest netip.Prefix) string {
	for _, t := range w.srv.Routes() {
		for _, e := range t.Entries {
			if e.Destination == dest.String() {
				return e.Status
			}
		}
	}
	return ""
}

// entries is the table's entry count, System entries included: what a
// listing has to page through.
func (w *benchWorld) entries() int {
	n := 0
	for _, t := range w.srv.Routes() {
		n += len(t.Entries)
	}
	return n
}

// joiner is the record of host n+1, registering now.
func (w *benchWorld) joiner() reconciler.Host {
	h := benchHosts(w.n + 1)[w.n]
	h.Subnets[0].Since = time.Now()
	return h
}

// unjoin removes the joiner's entry behind the API's back, so the next
// iteration starts from the same N routes.
func (w *benchWorld) unjoin(b *testing.B) {
	b.Helper()
	if err := w.srv.DeleteRoute(benchTable, benchSubnet(w.n+1).String()); err != nil {
		b.Fatalf("remove the joiner's route: %v", err)
	}
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// BenchmarkReconcile measures, per cluster size: converging an empty table,
// a new host's registration until its route is Available (a bare pass, and
// through Loop.Run with the daemon's debounce), and the API calls of a
// steady-state resync. Each figure is reported beside its lower bound.
func BenchmarkReconcile(b *testing.B) {
	// Simulator-only credentials: they open nothing but the simulator.
	b.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI-test")
	b.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "test-secret")
	b.Setenv("ALIBABA_CLOUD_SECURITY_TOKEN", "")
	for _, n := range benchHostCounts {
		b.Run(fmt.Sprintf("hosts=%d", n), func(b *testing.B) {
			// converged is the world the later sub-benchmarks share: the
			// last converge iteration's, or built untimed when converge is
			// filtered out.
			var converged *benchWorld
			defer func() {
				if converged != nil {
					converged.close()
				}
			}()
			ready := func(b *testing.B) *benchWorld {
				if converged == nil {
					w := newBenchWorld(b, n)
					converged = w
					w.converge(b)
				}
				return converged
			}
			b.Run("converge", func(b *testing.B) {
				benchConverge(b, n, func(w *benchWorld) {
					if converged != nil {
						converged.close()
					}
					converged = w
				})
			})
			b.Run("register", func(b *testing.B) {
				b.StopTimer()
				benchRegister(b, ready(b))
			})
			b.Run("register-daemon", func(b *testing.B) {
				b.StopTimer()
				benchRegisterDaemon(b, ready(b))
			})
			b.Run("resync", func(b *testing.B) {
				b.StopTimer()
				benchResync(b, ready(b))
			})
		})
	}
}

// benchConverge times one start pass over an empty table, each iteration
// on a fresh simulator. keep receives each converged world.
func benchConverge(b *testing.B, n int, keep func(*benchWorld)) {
	benchConvergeWith(b, n, benchPending, 1, keep)
}

// benchConvergeWith is benchConverge with the given Pending period and
// number of route tables. The bound is every batch of every table, one
// after the other, each Pending for its period: the simulator, like
// Alibaba, takes one change per VPC at a time.
func benchConvergeWith(b *testing.B, n int, pending time.Duration, tables int, keep func(*benchWorld)) {
	var total, cloudTotal time.Duration
	var reads, writes, busy, batches int
	for range b.N {
		b.StopTimer()
		w := newBenchWorldWith(b, n, pending, tables)
		keep(w)
		// A watcher notes when the simulator itself shows every route
		// Available, to tell the cloud's pacing from the provider's polling.
		cloudDone := make(chan time.Duration, 1)
		stop := make(chan struct{})
		b.StartTimer()
		start := time.Now()
		go func() {
			defer close(cloudDone)
			for {
				if w.available() == n*tables {
					cloudDone <- time.Since(start)
					return
				}
				select {
				case <-stop:
					return
				case <-time.After(10 * time.Millisecond):
				}
			}
		}()
		w.converge(b)
		took := time.Since(start)
		b.StopTimer()
		close(stop)
		cloudTook, ok := <-cloudDone
		if !ok {
			cloudTook = took // the watcher missed the moment; the pass saw it
		}
		total += took
		cloudTotal += cloudTook
		st := w.srv.Stats()
		reads += st.Reads
		writes += st.Writes
		batches += st.Count("CreateRouteEntries", "ok") + st.Count("CreateRouteEntry", "ok")
		for _, a := range []string{"CreateRouteEntries", "CreateRouteEntry"} {
			busy += st.Errors(a)
		}
	}
	per := func(v int) float64 { return float64(v) / float64(b.N) }
	b.ReportMetric(total.Seconds()/float64(b.N), "converge-s")
	b.ReportMetric(cloudTotal.Seconds()/float64(b.N), "cloud-avail-s")
	bound := time.Duration(ceilDiv(n, benchBatch)*tables) * pending
	b.ReportMetric(bound.Seconds(), "bound-s")
	b.ReportMetric(total.Seconds()/float64(b.N)/bound.Seconds(), "x-bound")
	b.ReportMetric(per(batches), "batches")
	b.ReportMetric(per(reads), "reads/op")
	b.ReportMetric(float64(reads)/float64(max(batches, 1)), "reads/batch")
	b.ReportMetric(per(writes), "writes/op")
	b.ReportMetric(per(busy), "busy/op")
}

// benchRegister times a pass with one more host than are routed: the
// registry-triggered pass, without the daemon's debounce.
func benchRegister(b *testing.B, w *benchWorld) {
	var total time.Duration
	before := w.srv.Stats()
	for range b.N {
		b.StopTimer()
		hosts := append(append([]reconciler.Host{}, w.hosts...), w.joiner())
		b.StartTimer()
		start := time.Now()
		rep := w.loop.Pass(context.Background(), hosts, "registry")
		took := time.Since(start)
		b.StopTimer()
		if rep.Result != reconciler.ResultOK || rep.Created != 1 {
			b.Fatalf("registry pass: result %s, created %d: %s", rep.Result, rep.Created, rep.Error)
		}
		if st := w.entryStatus(benchSubnet(w.n + 1)); st != sim.StatusAvailable {
			b.Fatalf("the joiner's route is %q after the pass", st)
		}
		total += took
		w.unjoin(b)
	}
	after := w.srv.Stats()
	b.ReportMetric(total.Seconds()/float64(b.N), "register-s")
	b.ReportMetric(benchPending.Seconds(), "bound-s")
	b.ReportMetric(float64(after.Reads-before.Reads)/float64(b.N), "reads/op")
	b.ReportMetric(float64(after.Writes-before.Writes)/float64(b.N), "writes/op")
}

// benchRegisterDaemon times a registration as the daemon's leader handles
// it: Loop.Run receives a snapshot with one more host, waits out the
// debounce, passes; the clock stops when the simulator shows the new route
// Available (the moment packets can flow), and again when the pass reports.
func benchRegisterDaemon(b *testing.B, w *benchWorld) {
	var total, reported time.Duration
	for range b.N {
		b.StopTimer()
		reports := make(chan reconciler.Report, 4)
		loop, err := newBenchLoop(w.provider, func(r reconciler.Report) { reports <- r })
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		feed := reconciler.NewHostFeed()
		done := make(chan error, 1)
		go func() { done <- loop.Run(ctx, feed.C()) }()
		feed.Send(w.hosts)
		if rep := <-reports; rep.Trigger != "start" || rep.Result != reconciler.ResultOK || rep.Created != 0 {
			cancel()
			b.Fatalf("start pass over %d routed hosts: %+v", w.n, rep)
		}
		hosts := append(append([]reconciler.Host{}, w.hosts...), w.joiner())
		dest := benchSubnet(w.n + 1)
		b.StartTimer()
		start := time.Now()
		feed.Send(hosts)
		for w.entryStatus(dest) != sim.StatusAvailable {
			time.Sleep(5 * time.Millisecond)
		}
		took := time.Since(start)
		b.StopTimer()
		var rep reconciler.Report
		select {
		case rep = <-reports:
		case <-time.After(time.Minute):
			cancel()
			b.Fatal("no report of the registry pass within a minute")
		}
		repTook := time.Since(start)
		cancel()
		if err := <-done; err != nil {
			b.Fatalf("loop: %v", err)
		}
		if rep.Trigger != "registry" || rep.Result != reconciler.ResultOK || rep.Created != 1 {
			b.Fatalf("registry pass: %+v", rep)
		}
		total += took
		reported += repTook
		w.unjoin(b)
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "register-s")
	b.ReportMetric(reported.Seconds()/float64(b.N), "reported-s")
	b.ReportMetric((reconciler.DefaultDebounce + benchPending).Seconds(), "bound-s")
}

// benchResync counts the API calls of a full pass when nothing changed.
func benchResync(b *testing.B, w *benchWorld) {
	ctx := context.Background()
	// One pass first so the loop's cached network read is not counted:
	// the daemon reads the VPC's ranges every 10 minutes, not per resync.
	if rep := w.loop.Pass(ctx, w.hosts, "resync"); rep.Result != reconciler.ResultOK {
		b.Fatalf("warm-up pass: %+v", rep)
	}
	entries := w.entries()
	before := w.srv.Stats()
	b.StartTimer()
	for range b.N {
		rep := w.loop.Pass(ctx, w.hosts, "resync")
		if rep.Result != reconciler.ResultOK || rep.Created != 0 || rep.Deleted != 0 {
			b.Fatalf("steady-state pass: result %s, created %d, deleted %d: %s", rep.Result, rep.Created, rep.Deleted, rep.Error)
		}
	}
	b.StopTimer()
	after := w.srv.Stats()
	b.ReportMetric(float64(after.Reads-before.Reads)/float64(b.N), "reads/resync")
	b.ReportMetric(float64(after.Writes-before.Writes)/float64(b.N), "writes/resync")
	// The bound is one list per managed table (1 here); listing
	// pages at most 100 entries, so the API's own floor is the pages.
	b.ReportMetric(1, "tables")
	b.ReportMetric(float64(ceilDiv(entries, benchListPage)), "pages-bound")
}
