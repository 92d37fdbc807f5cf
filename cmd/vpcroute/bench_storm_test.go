package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/cloud/sim"
)

// benchStormPending is the Pending period of the storm's simulator: the
// default topology's, Alibaba's as the benchmarks play it.
const benchStormPending = 2 * time.Second

// BenchmarkSyncStorm starts n one-shot `vpcroute sync` processes at the same
// moment (an autoscaling group booting), each for its own instance and
// subnet, against a vpcroute-sim process with one route table and Pending
// 2 s. The VPC takes one change at a time, so the bound is n × Pending; the
// clock stops when the last process exits. It reports the ratio to the
// bound, the conflict answers (IncorrectRouteEntryStatus) and the processes
// that failed. Run it with -benchtime=1x.
func BenchmarkSyncStorm(b *testing.B) {
	for _, n := range []int{5, 20} {
		b.Run(fmt.Sprintf("syncs=%d", n), func(b *testing.B) {
			var took time.Duration
			var conflicts, failures, reads, writes int
			for range b.N {
				b.StopTimer()
				simURL := benchStartStormSim(b, n)
				b.StartTimer()
				start := time.Now()
				failed := benchRunStorm(b, simURL, n)
				took += time.Since(start)
				b.StopTimer()
				st := benchSimStats(b, simURL)
				for _, outcomes := range st.Actions {
					conflicts += outcomes[sim.CodeIncorrectEntryStatus]
				}
				failures += failed
				reads += st.Reads
				writes += st.Writes
				if got := benchStormAvailable(b, simURL); failed == 0 && got != n {
					b.Fatalf("%d syncs exited 0 but %d routes are Available", n, got)
				}
			}
			per := func(v int) float64 { return float64(v) / float64(b.N) }
			bound := time.Duration(n) * benchStormPending
			b.ReportMetric(took.Seconds()/float64(b.N), "storm-s")
			b.ReportMetric(bound.Seconds(), "bound-s")
			b.ReportMetric(took.Seconds()/float64(b.N)/bound.Seconds(), "x-bound")
			b.ReportMetric(per(conflicts), "IncorrectRouteEntryStatus/op")
			b.ReportMetric(per(failures), "failed/op")
			b.ReportMetric(per(reads), "reads/op")
			b.ReportMetric(per(writes), "writes/op")
		})
	}
}

// benchStormTopology is one VPC with one System table and instances
// i-s1 .. i-s<n>.
func benchStormTopology(n int) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, `region: cn-zhangjiakou
vpc: {id: vpc-storm, cidr: 192.168.0.0/16}
vswitches: [{id: vsw-storm, cidr: 192.168.0.0/20}]
routeTables:
  - id: vtb-storm
    type: System
    routes:
      - {destination: 0.0.0.0/0, nextHopType: NatGateway, nextHopId: ngw-storm, name: internet}
credentials:
  - {accessKeyId: LTAI-test, accessKeySecret: test-secret}
behaviour:
  pendingDelay: %s
instances:
`, benchStormPending)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&sb, "  - {id: i-s%d, privateIp: 192.168.1.%d}\n", i, 10+i)
	}
	return sb.String()
}

// benchStartStormSim runs vpcroute-sim with benchStormTopology(n) on a
// loopback port and returns its URL; the process ends with the benchmark.
func benchStartStormSim(b *testing.B, n int) string {
	b.Helper()
	topo := filepath.Join(b.TempDir(), "storm.yaml")
	if err := os.WriteFile(topo, []byte(benchStormTopology(n)), 0o600); err != nil {
		b.Fatal(err)
	}
	return benchStartSim(b, "--topology", topo)
}

// benchRunStorm starts n syncs at once, waits for all and returns how many
// exited non-zero (the first failure's output is logged).
func benchRunStorm(b *testing.B, simURL string, n int) int {
	var wg sync.WaitGroup
	var mu sync.Mutex
	failed := 0
	cmds := make([]*exec.Cmd, n)
	outs := make([]*bytes.Buffer, n)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for i := range n {
		id := fmt.Sprintf("i-s%d", i+1)
		cmds[i] = exec.CommandContext(ctx, filepath.Join(binDir, "vpcroute"), "sync",
			"--host-config=false", "--cluster-cidr", "10.0.0.0/8", "--subnet", fmt.Sprintf("10.%d.0.0/24", 100+i),
			"--endpoint", simURL, "--metadata-endpoint", simURL+"/sim/v1/instances/"+id,
			"--cluster-name", "storm", "--config", emptyConfig)
		cmds[i].Env = []string{"PATH=" + os.Getenv("PATH"),
			"ALIBABA_CLOUD_ACCESS_KEY_ID=LTAI-test", "ALIBABA_CLOUD_ACCESS_KEY_SECRET=test-secret"}
		outs[i] = &bytes.Buffer{}
		cmds[i].Stdout, cmds[i].Stderr = outs[i], outs[i]
	}
	for i := range n {
		if err := cmds[i].Start(); err != nil {
			b.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := cmds[i].Wait(); err != nil {
				mu.Lock()
				defer mu.Unlock()
				if failed == 0 {
					b.Logf("sync %d failed: %v\n%s", i+1, err, outs[i])
				}
				failed++
			}
		}()
	}
	wg.Wait()
	return failed
}

func benchSimStats(b *testing.B, simURL string) sim.Stats {
	b.Helper()
	var st sim.Stats
	benchGetJSON(b, simURL+"/sim/v1/stats", &st)
	return st
}

// benchStormAvailable counts vpcroute's Available entries.
func benchStormAvailable(b *testing.B, simURL string) int {
	b.Helper()
	var body struct {
		Tables []sim.Table `json:"tables"`
	}
	benchGetJSON(b, simURL+"/sim/v1/routes", &body)
	n := 0
	for _, t := range body.Tables {
		for _, e := range t.Entries {
			if strings.HasPrefix(e.Name, "vpcroute-") && e.Status == sim.StatusAvailable {
				n++
			}
		}
	}
	return n
}

func benchGetJSON(b *testing.B, url string, v any) {
	b.Helper()
	resp, err := http.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		b.Fatalf("GET %s: %v", url, err)
	}
}
