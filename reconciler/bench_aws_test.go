package reconciler_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/cloud/aws"
	"github.com/vpcroute/vpcroute/cloud/sim"
	"github.com/vpcroute/vpcroute/reconciler"
)

// BenchmarkAWSReconcile measures, per cluster size on EC2 pacing:
// converging an empty table, a new host's registration until its route is
// active (a bare pass, and through Loop.Run with the daemon's debounce),
// and the API calls of a steady-state resync, each beside its bound.
func BenchmarkAWSReconcile(b *testing.B) {
	pinAWSBenchEnv(b)
	for _, n := range awsBenchHostCounts {
		if !awsBenchSelected(n) {
			b.Logf("hosts=%d left out: it takes minutes; run it with -bench 'BenchmarkAWSReconcile/hosts=%d/'", n, n)
			continue
		}
		b.Run(fmt.Sprintf("hosts=%d", n), func(b *testing.B) {
			// converged is the world the later sub-benchmarks share: the
			// last converge iteration's, or one with the routes put in
			// place when converge is filtered out.
			var converged *awsBenchWorld
			defer func() {
				if converged != nil {
					converged.close()
				}
			}()
			ready := func(b *testing.B) *awsBenchWorld {
				if converged == nil {
					converged = newAWSBenchWorld(b, n, sim.EC2MutatingBucket)
					converged.putRoutes(b)
				}
				return converged
			}
			b.Run("converge", func(b *testing.B) {
				benchAWSConverge(b, n, func(w *awsBenchWorld) {
					if converged != nil {
						converged.close()
					}
					converged = w
				})
			})
			b.Run("register", func(b *testing.B) {
				b.StopTimer()
				benchAWSRegister(b, ready(b))
			})
			b.Run("register-daemon", func(b *testing.B) {
				b.StopTimer()
				benchAWSRegisterDaemon(b, ready(b))
			})
			b.Run("resync", func(b *testing.B) {
				b.StopTimer()
				benchAWSResync(b, ready(b))
			})
		})
	}
}

// BenchmarkAWSThrottleStorm converges an empty table while the
// simulator's mutating bucket is far smaller than the client's (10
// refilling 2/s against 50 refilling 5/s): the provider must retry
// RequestLimitExceeded until every route is in, with no error surfacing.
func BenchmarkAWSThrottleStorm(b *testing.B) {
	pinAWSBenchEnv(b)
	n := awsBenchStormHosts
	b.Run(fmt.Sprintf("hosts=%d", n), func(b *testing.B) {
		var total time.Duration
		var rle, writes, retries, failed int
		for range b.N {
			b.StopTimer()
			w := newAWSBenchWorld(b, n, awsStormBucket)
			r := awsConvergeOnce(b, w)
			w.close()
			total += r.took
			st := r.stats
			rle += throttledAnswers(st)
			writes += st.Writes
			retries += r.throttled
			failed += r.failed
		}
		per := func(v int) float64 { return float64(v) / float64(b.N) }
		b.ReportMetric(total.Seconds()/float64(b.N), "converge-s")
		bound := float64(max(0, n-awsStormBucket.Capacity)) / awsStormBucket.RefillPerSecond
		b.ReportMetric(bound, "bound-s")
		b.ReportMetric(per(rle), "rle/op")
		b.ReportMetric(per(retries), "client-throttled/op")
		b.ReportMetric(per(writes), "writes/op")
		b.ReportMetric(per(failed), "call-errors/op")
		// Zero: a pass with an error has already failed the benchmark.
		b.ReportMetric(0, "surfaced-errors")
	})
}

// awsConverge is one converge's measurements.
type awsConverge struct {
	took, cloudTook time.Duration
	stats           sim.Stats
	throttled       int // calls the provider saw throttled
	failed          int // calls that failed otherwise (and were retried)
}

// awsConvergeOnce times one start pass over w's empty table on a fresh
// provider and checks that the pass reports no error and that the
// simulator shows every route active. The timer must be stopped; it is
// stopped again on return.
func awsConvergeOnce(b *testing.B, w *awsBenchWorld) awsConverge {
	b.Helper()
	calls := &awsCallLog{}
	loop := w.loop(b, calls, nil)
	// A watcher notes when the simulator itself shows every route active,
	// to tell the cloud's pacing from the provider's confirmation.
	cloudDone := make(chan time.Duration, 1)
	stop := make(chan struct{})
	b.StartTimer()
	start := time.Now()
	go func() {
		defer close(cloudDone)
		for {
			if w.active() == w.n {
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
	rep := loop.Pass(context.Background(), w.seen(), "start")
	took := time.Since(start)
	b.StopTimer()
	close(stop)
	cloudTook, ok := <-cloudDone
	if !ok {
		cloudTook = took // the watcher missed the moment; the pass saw it
	}
	if rep.Result != reconciler.ResultOK || rep.Error != "" || rep.Created != w.n {
		b.Fatalf("start pass over %d hosts: result %s, created %d: %s", w.n, rep.Result, rep.Created, rep.Error)
	}
	if got := w.active(); got != w.n {
		b.Fatalf("after the start pass %d of %d routes are active", got, w.n)
	}
	throttled, failed := calls.counts()
	return awsConverge{took: took, cloudTook: cloudTook, stats: w.srv.Stats(), throttled: throttled, failed: failed}
}

// benchAWSConverge times one start pass over an empty table per
// iteration, each on a fresh simulator and provider (both buckets full).
// keep receives each converged world.
func benchAWSConverge(b *testing.B, n int, keep func(*awsBenchWorld)) {
	var total, cloudTotal time.Duration
	var reads, writes, rle, failed int
	perAction := map[string]int{}
	for range b.N {
		b.StopTimer()
		w := newAWSBenchWorld(b, n, sim.EC2MutatingBucket)
		keep(w)
		r := awsConvergeOnce(b, w)
		total += r.took
		cloudTotal += r.cloudTook
		reads += r.stats.Reads
		writes += r.stats.Writes
		rle += throttledAnswers(r.stats)
		failed += r.failed
		for _, a := range awsReadActions {
			perAction[a] += r.stats.Calls(a)
		}
	}
	per := func(v int) float64 { return float64(v) / float64(b.N) }
	b.ReportMetric(total.Seconds()/float64(b.N), "converge-s")
	b.ReportMetric(cloudTotal.Seconds()/float64(b.N), "cloud-active-s")
	// Burst 50, then 5/s: the 51st CreateRoute can go at 0.2 s, the Nth
	// at (N-50)/5 s.
	bound := float64(max(0, n-aws.DefaultMutatingBurst)) / aws.DefaultMutatingRate
	b.ReportMetric(bound, "bound-s")
	b.ReportMetric(per(writes), "writes/op")
	b.ReportMetric(float64(n), "writes-bound")
	b.ReportMetric(per(reads), "reads/op")
	// Which reads: the breakdown of reads/op by action (retries included).
	for _, a := range awsReadActions {
		b.ReportMetric(per(perAction[a]), a+"/op")
	}
	b.ReportMetric(per(rle), "rle/op")
	b.ReportMetric(per(failed), "call-errors/op")
}

// awsReadActions are the Describe calls a leader's pass can make, reported
// one by one beside reads/op.
var awsReadActions = []string{
	"DescribeVpcs", "DescribeSubnets", "DescribeRouteTables",
	"DescribeNetworkInterfaces", "DescribeInstances",
}

// benchAWSRegister times a pass with one more host than are routed: the
// registry-triggered pass, without the daemon's debounce. Each iteration
// runs on a fresh provider and loop (untimed warm-up pass included) with
// both simulator buckets refilled: a leader idle for a few seconds.
// Without that, iterations a few milliseconds apart would empty the
// client's bucket after 50 and then time its 0.2 s refill instead.
func benchAWSRegister(b *testing.B, w *awsBenchWorld) {
	ctx := context.Background()
	var total, createTotal time.Duration
	var reads, writes int
	for range b.N {
		b.StopTimer()
		calls := &awsCallLog{}
		loop := w.loop(b, calls, nil)
		if rep := loop.Pass(ctx, w.seen(), "start"); rep.Result != reconciler.ResultOK || rep.Created != 0 {
			b.Fatalf("warm-up pass over %d routed hosts: result %s, created %d: %s", w.n, rep.Result, rep.Created, rep.Error)
		}
		if err := w.refill(); err != nil {
			b.Fatal(err)
		}
		hosts := append(w.seen(), w.joiner())
		before := w.srv.Stats()
		b.StartTimer()
		start := time.Now()
		rep := loop.Pass(ctx, hosts, "registry")
		took := time.Since(start)
		b.StopTimer()
		after := w.srv.Stats()
		if rep.Result != reconciler.ResultOK || rep.Created != 1 {
			b.Fatalf("registry pass: result %s, created %d: %s", rep.Result, rep.Created, rep.Error)
		}
		if st := w.routeState(awsBenchSubnetOf(w.n + 1)); st != sim.RouteActive {
			b.Fatalf("the joiner's route is %q after the pass", st)
		}
		create, ok := calls.lastCreate()
		if !ok {
			b.Fatal("the registry pass made no successful CreateRoute call")
		}
		total += took
		createTotal += create
		reads += after.Reads - before.Reads
		writes += after.Writes - before.Writes
		w.unjoin(b)
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "register-s")
	// The pass cannot be quicker than the one CreateRoute it must make.
	b.ReportMetric(createTotal.Seconds()/float64(b.N), "bound-s")
	b.ReportMetric(float64(reads)/float64(b.N), "reads/op")
	b.ReportMetric(float64(writes)/float64(b.N), "writes/op")
}

// benchAWSRegisterDaemon times a registration as the daemon's leader
// handles it: Loop.Run receives a snapshot with one more host, waits out
// the debounce and passes; the clock stops when the simulator shows the
// new route active (packets can flow), and again when the pass reports.
func benchAWSRegisterDaemon(b *testing.B, w *awsBenchWorld) {
	var total, reported, bound time.Duration
	for range b.N {
		b.StopTimer()
		reports := make(chan reconciler.Report, 4)
		calls := &awsCallLog{}
		loop := w.loop(b, calls, func(r reconciler.Report) { reports <- r })
		ctx, cancel := context.WithCancel(context.Background())
		feed := reconciler.NewHostFeed()
		done := make(chan error, 1)
		go func() { done <- loop.Run(ctx, feed.C()) }()
		feed.Send(w.seen())
		if rep := <-reports; rep.Trigger != "start" || rep.Result != reconciler.ResultOK || rep.Created != 0 {
			cancel()
			b.Fatalf("start pass over %d routed hosts: %+v", w.n, rep)
		}
		if err := w.refill(); err != nil {
			cancel()
			b.Fatal(err)
		}
		hosts := append(w.seen(), w.joiner())
		dest := awsBenchSubnetOf(w.n + 1)
		b.StartTimer()
		start := time.Now()
		feed.Send(hosts)
		for w.routeState(dest) != sim.RouteActive {
			time.Sleep(time.Millisecond)
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
		create, ok := calls.lastCreate()
		if !ok {
			b.Fatal("the registry pass made no successful CreateRoute call")
		}
		total += took
		reported += repTook
		bound += reconciler.DefaultDebounce + create
		w.unjoin(b)
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "register-s")
	b.ReportMetric(reported.Seconds()/float64(b.N), "reported-s")
	b.ReportMetric(bound.Seconds()/float64(b.N), "bound-s")
}

// benchAWSResync counts the API calls of a full pass when nothing changed.
// Both simulator buckets are refilled before each pass: the daemon resyncs
// once a minute, and passes a millisecond apart would otherwise time
// RequestLimitExceeded retries on the Describe bucket.
func benchAWSResync(b *testing.B, w *awsBenchWorld) {
	ctx := context.Background()
	loop := w.loop(b, nil, nil)
	// One pass first so the loop's cached network read is not counted:
	// the daemon reads the VPC's ranges every 10 minutes, not per resync.
	if rep := loop.Pass(ctx, w.seen(), "resync"); rep.Result != reconciler.ResultOK {
		b.Fatalf("warm-up pass: %+v", rep)
	}
	routes := w.routeCount()
	var reads, writes, tables, enis, rle int
	for range b.N {
		if err := w.refill(); err != nil {
			b.Fatal(err)
		}
		hosts := w.seen()
		before := w.srv.Stats()
		b.StartTimer()
		rep := loop.Pass(ctx, hosts, "resync")
		b.StopTimer()
		after := w.srv.Stats()
		if rep.Result != reconciler.ResultOK || rep.Created != 0 || rep.Deleted != 0 {
			b.Fatalf("steady-state pass: result %s, created %d, deleted %d: %s", rep.Result, rep.Created, rep.Deleted, rep.Error)
		}
		reads += after.Reads - before.Reads
		writes += after.Writes - before.Writes
		tables += after.Calls("DescribeRouteTables") - before.Calls("DescribeRouteTables")
		enis += after.Calls("DescribeNetworkInterfaces") - before.Calls("DescribeNetworkInterfaces")
		rle += throttledAnswers(after) - throttledAnswers(before)
	}
	per := func(v int) float64 { return float64(v) / float64(b.N) }
	b.ReportMetric(per(reads), "reads/resync")
	b.ReportMetric(per(writes), "writes/resync")
	b.ReportMetric(per(tables), "table-reads/resync")
	b.ReportMetric(per(enis), "eni-reads/resync")
	b.ReportMetric(per(rle), "rle/resync")
	// The bound: one DescribeRouteTables per managed table (1 here); EC2
	// returns a table's routes whole, without pages.
	b.ReportMetric(1, "reads-bound")
	b.ReportMetric(float64(routes), "routes")
}
