package reconciler_test

import (
	"context"
	"flag"
	"fmt"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	awsv2 "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/cloud/aws"
	"github.com/vpcroute/vpcroute/cloud/sim"
	"github.com/vpcroute/vpcroute/reconciler"
)

// These benchmarks run the real reconcile loop through the real EC2
// provider (cloud/aws) and aws-sdk-go-v2 against the simulator on
// loopback, paced as EC2 paces calls: the provider's client-side bucket
// at its default (burst 50, 5/s) and the simulator's buckets as EC2's
// (mutating 50 refilling 5/s, Describe* 100 refilling 20/s), whose empty
// bucket answers RequestLimitExceeded. EC2 applies a route at once and has
// no batch call, so converging is N CreateRoute calls and the bucket is
// the whole cost. Hosts are fed to Loop.Pass (or Loop.Run) directly; no
// registry is involved. Each host is taken to have run PrepareHost itself
// (its ENI tagged vpcroute:cluster, source/destination check off): those
// calls are the hosts', not the leader's, and are not timed.
//
// Sizes of 500 hosts and more take minutes (1000 routes at 5/s is 190 s)
// and run only when -bench names them; see BENCHMARKS.md.

const (
	awsBenchRegion = "eu-west-1"
	awsBenchZone   = "eu-west-1a"
	awsBenchVPC    = "vpc-bench"
	awsBenchSubnet = "subnet-bench"
	awsBenchTable  = "rtb-bench"
	awsBenchIGW    = "igw-bench"
	awsBenchKey    = "AKIABENCHSIMULATOR01"
	// awsBenchSecret opens nothing but the simulator.
	awsBenchSecret = "bench-sim-secret"
	awsBenchOwner  = "bench"
	// awsBenchLargeFrom is the first size that runs only on request.
	awsBenchLargeFrom = 500
	// awsBenchStormHosts is the cluster size of the throttling storm.
	awsBenchStormHosts = 100
)

// awsBenchHostCounts are the cluster sizes measured.
var awsBenchHostCounts = []int{10, 100, 500, 1000}

var awsBenchClusterCIDR = netip.MustParsePrefix("10.0.0.0/8")

// awsStormBucket is the simulator's mutating bucket in the storm: much
// smaller than the client's own (50, 5/s), as when other callers in the
// account drain the shared bucket.
var awsStormBucket = sim.BucketSpec{Capacity: 10, RefillPerSecond: 2}

// awsBenchSelected reports whether size n runs: below awsBenchLargeFrom
// always, from there only when the -bench pattern names it ("hosts=1000").
func awsBenchSelected(n int) bool {
	if n < awsBenchLargeFrom {
		return true
	}
	f := flag.Lookup("test.bench")
	if f == nil {
		return false
	}
	return regexp.MustCompile(fmt.Sprintf(`hosts=%d($|[^0-9])`, n)).MatchString(f.Value.String())
}

func awsBenchInstance(i int) string { return fmt.Sprintf("i-bench-%d", i) }
func awsBenchENI(i int) string      { return fmt.Sprintf("eni-bench-%d", i) }

// awsBenchHostIP is host i's address in subnet 192.168.0.0/20.
func awsBenchHostIP(i int) netip.Addr {
	n := 10 + i
	return netip.AddrFrom4([4]byte{192, 168, byte(n / 256), byte(n % 256)})
}

// awsBenchSubnetOf is host i's container subnet, 10.<i/256>.<i%256>.0/24.
func awsBenchSubnetOf(i int) netip.Prefix {
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i / 256), byte(i % 256), 0}), 24)
}

// awsBenchQuota is the table's route limit for n hosts: EC2's default 50
// when it fits, else n routes plus the unowned internet gateway route plus
// the host that joins, as an operator would have to request. EC2 allows at
// most 1000, so n = 1000 (1002) is beyond what a real table holds.
func awsBenchQuota(n int) int { return max(sim.DefaultAWSQuota, n+2) }

// awsBenchHosts returns the registry records of hosts 1..n, freshly seen.
func awsBenchHosts(n int) []reconciler.Host {
	now := time.Now()
	since := now.Add(-time.Hour)
	hosts := make([]reconciler.Host, 0, n)
	for i := 1; i <= n; i++ {
		hosts = append(hosts, reconciler.Host{
			Instance:   awsBenchInstance(i),
			Target:     cloud.Target{Kind: cloud.TargetNetworkInterface, ID: awsBenchENI(i)},
			PrivateIP:  awsBenchHostIP(i),
			Subnets:    []reconciler.Claim{{Subnet: awsBenchSubnetOf(i), Since: since.Add(time.Duration(i) * time.Millisecond)}},
			HostConfig: "disabled",
			Version:    "bench",
			LastSeen:   now,
			Order:      int64(i),
		})
	}
	return hosts
}

// awsBenchTopology is one VPC, one subnet, one main route table holding an
// unowned internet gateway route, and instances 1..instances whose primary
// ENI has its source/destination check off.
func awsBenchTopology(n, instances int, writes sim.BucketSpec) sim.Topology {
	off := false
	t := sim.Topology{
		Provider: sim.ProviderAWS,
		Region:   awsBenchRegion,
		VPC:      &sim.VPCSpec{ID: awsBenchVPC, CIDR: "192.168.0.0/16"},
		Subnets:  []sim.VSwitchSpec{{ID: awsBenchSubnet, CIDR: "192.168.0.0/20", Zone: awsBenchZone}},
		RouteTables: []sim.RouteTableSpec{{ID: awsBenchTable, Main: true, Routes: []sim.RouteSpec{
			{Destination: "0.0.0.0/0", NextHopType: "Gateway", NextHopID: awsBenchIGW},
		}}},
		Credentials: []sim.CredentialSpec{{AccessKeyID: awsBenchKey, AccessKeySecret: awsBenchSecret}},
		Behaviour: sim.Behaviour{Quota: awsBenchQuota(n),
			Throttle: sim.ThrottleSpec{Reads: sim.EC2DescribeBucket, Writes: writes}},
	}
	for i := 1; i <= instances; i++ {
		t.Instances = append(t.Instances, sim.InstanceSpec{ID: awsBenchInstance(i), PrivateIP: awsBenchHostIP(i).String(),
			Subnet: awsBenchSubnet, ENI: awsBenchENI(i), SourceDestCheck: &off})
	}
	return t
}

// awsBenchWorld is a simulated EC2 region for n hosts (plus one more, the
// host that joins). Providers are made per use: a provider's client-side
// bucket is its memory of recent writes.
type awsBenchWorld struct {
	n     int
	srv   *sim.Server
	api   *httptest.Server // the EC2 endpoint
	imds  *httptest.Server // host 1's metadata service (identity is given: never asked)
	hosts []reconciler.Host
}

// newAWSBenchWorld starts a world with an empty table (but for the
// internet gateway route), the ENIs tagged for the cluster as each host's
// PrepareHost leaves them, full buckets and zero counters. The caller
// closes it.
func newAWSBenchWorld(b *testing.B, n int, writes sim.BucketSpec) *awsBenchWorld {
	b.Helper()
	srv, err := sim.New(awsBenchTopology(n, n+1, writes))
	if err != nil {
		b.Fatalf("start simulator: %v", err)
	}
	w := &awsBenchWorld{n: n, srv: srv, hosts: awsBenchHosts(n)}
	w.api = httptest.NewServer(srv.Handler())
	w.imds = httptest.NewServer(srv.MetadataHandler(awsBenchInstance(1)))
	if err := w.tagENIs(n + 1); err != nil {
		w.close()
		b.Fatalf("tag the hosts' ENIs: %v", err)
	}
	if err := w.refill(); err != nil {
		w.close()
		b.Fatalf("refill the simulator's buckets: %v", err)
	}
	srv.ResetStats()
	return w
}

// tagENIs tags the ENIs of hosts 1..count vpcroute:cluster=<cluster>, as
// PrepareHost on each host does, with the SDK over a loopback-only client.
// CreateTags takes many resources in one call.
func (w *awsBenchWorld) tagENIs(count int) error {
	hc := sim.LoopbackHTTPClient()
	defer hc.CloseIdleConnections()
	client := ec2.NewFromConfig(awsv2.Config{
		Region: awsBenchRegion, BaseEndpoint: awsv2.String(w.api.URL), HTTPClient: hc,
		Credentials: awsv2.CredentialsProviderFunc(func(context.Context) (awsv2.Credentials, error) {
			return awsv2.Credentials{AccessKeyID: awsBenchKey, SecretAccessKey: awsBenchSecret}, nil
		}),
	})
	const chunk = 200
	for start := 1; start <= count; start += chunk {
		var ids []string
		for i := start; i <= min(count, start+chunk-1); i++ {
			ids = append(ids, awsBenchENI(i))
		}
		_, err := client.CreateTags(context.Background(), &ec2.CreateTagsInput{Resources: ids,
			Tags: []ec2types.Tag{{Key: awsv2.String(aws.TagKey), Value: awsv2.String(awsBenchOwner)}}})
		if err != nil {
			return fmt.Errorf("create tags on %s..%s: %w", ids[0], ids[len(ids)-1], err)
		}
	}
	return nil
}

// refill fills both simulator buckets, as a few idle seconds would: the
// simulator refills them when its throttle settings change.
func (w *awsBenchWorld) refill() error {
	beh := w.srv.Behaviour()
	throttle := beh.Throttle
	beh.Throttle = sim.ThrottleSpec{}
	if err := w.srv.SetBehaviour(beh); err != nil {
		return err
	}
	beh.Throttle = throttle
	return w.srv.SetBehaviour(beh)
}

func (w *awsBenchWorld) close() {
	w.api.Close()
	w.imds.Close()
	_ = w.srv.Close()
}

// provider is the real EC2 provider for host 1 with a fresh client-side
// bucket at its defaults. Every endpoint is the simulator's.
func (w *awsBenchWorld) provider(obs cloud.CallObserver) (*aws.Provider, error) {
	return aws.New(context.Background(), aws.Options{
		Settings: cloud.Settings{
			Endpoint:         w.api.URL,
			MetadataEndpoint: w.imds.URL,
			Region:           awsBenchRegion,
			InstanceID:       awsBenchInstance(1),
			VPCID:            awsBenchVPC,
			PrivateIP:        awsBenchHostIP(1),
			Cluster:          awsBenchOwner,
			ClusterCIDR:      awsBenchClusterCIDR,
			Observer:         obs,
		},
		NetworkInterfaceID: awsBenchENI(1),
		// MutatingRate and MutatingBurst stay at their defaults (5/s, 50).
	})
}

// loop is a leader's loop with the daemon's defaults (debounce 1 s) on a
// fresh provider.
func (w *awsBenchWorld) loop(b *testing.B, obs cloud.CallObserver, onReport func(reconciler.Report)) *reconciler.Loop {
	b.Helper()
	p, err := w.provider(obs)
	if err != nil {
		b.Fatalf("provider: %v", err)
	}
	l, err := reconciler.NewLoop(reconciler.LoopConfig{
		Cluster: awsBenchOwner, ClusterCIDR: awsBenchClusterCIDR, Provider: p,
		Identity: awsBenchInstance(1), OnReport: onReport,
	})
	if err != nil {
		b.Fatalf("loop: %v", err)
	}
	return l
}

// active counts the hosts' routes that the simulator (not the provider)
// shows active, made by CreateRoute and pointing at the right ENI.
func (w *awsBenchWorld) active() int {
	want := map[string]string{}
	for i := 1; i <= w.n; i++ {
		want[awsBenchSubnetOf(i).String()] = awsBenchENI(i)
	}
	n := 0
	for _, t := range w.srv.Routes() {
		for _, e := range t.Entries {
			if eni, ok := want[e.Destination]; ok && e.Origin == sim.OriginCreateRoute && e.Status == sim.RouteActive && e.NetworkInterfaceID == eni {
				n++
			}
		}
	}
	return n
}

// routeState is the simulator's state of the route to dest ("" if none).
func (w *awsBenchWorld) routeState(dest netip.Prefix) string {
	for _, t := range w.srv.Routes() {
		for _, e := range t.Entries {
			if e.Destination == dest.String() {
				return e.Status
			}
		}
	}
	return ""
}

// routeCount is the number of routes in the table, the local route included.
func (w *awsBenchWorld) routeCount() int {
	n := 0
	for _, t := range w.srv.Routes() {
		n += len(t.Entries)
	}
	return n
}

// putRoutes puts the hosts' routes in place behind the API's back, as a
// converge leaves them, for sub-benchmarks run without converge.
func (w *awsBenchWorld) putRoutes(b *testing.B) {
	b.Helper()
	for i := 1; i <= w.n; i++ {
		if _, err := w.srv.PutRoute(sim.PutRouteRequest{Table: awsBenchTable, Destination: awsBenchSubnetOf(i).String(),
			NextHopType: sim.HopNetworkInterface, NextHopID: awsBenchENI(i)}); err != nil {
			b.Fatalf("put route of host %d: %v", i, err)
		}
	}
	if got := w.active(); got != w.n {
		b.Fatalf("%d of %d routes active after putting them", got, w.n)
	}
}

// seen returns the hosts' records as their agents keep them, last written
// moments ago. A converge of 1000 routes outlasts the loop's 3 minutes of
// silence, after which it would ask EC2 whether each host still exists:
// live agents rewrite their records far more often than that.
func (w *awsBenchWorld) seen() []reconciler.Host {
	now := time.Now()
	hosts := make([]reconciler.Host, len(w.hosts), len(w.hosts)+1)
	for i, h := range w.hosts {
		h.LastSeen = now
		hosts[i] = h
	}
	return hosts
}

// joiner is the record of host n+1, registering now.
func (w *awsBenchWorld) joiner() reconciler.Host {
	h := awsBenchHosts(w.n + 1)[w.n]
	h.Subnets[0].Since = time.Now()
	return h
}

// unjoin removes the joiner's route behind the API's back, so the next
// iteration starts from the same N routes.
func (w *awsBenchWorld) unjoin(b *testing.B) {
	b.Helper()
	if err := w.srv.DeleteRoute(awsBenchTable, awsBenchSubnetOf(w.n+1).String()); err != nil {
		b.Fatalf("remove the joiner's route: %v", err)
	}
}

// throttledAnswers is how many calls, of any action, the simulator answered
// RequestLimitExceeded.
func throttledAnswers(st sim.Stats) int {
	n := 0
	for a := range st.Actions {
		n += st.Count(a, sim.CodeRequestLimitExceeded)
	}
	return n
}

// awsCallLog is a cloud.CallObserver that counts the provider's calls by
// outcome and keeps the durations of successful CreateRoute calls.
type awsCallLog struct {
	mu        sync.Mutex
	throttled int
	failed    int
	creates   []time.Duration
}

// ObserveCall implements cloud.CallObserver.
func (l *awsCallLog) ObserveCall(action, outcome string, took time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case outcome == cloud.OutcomeThrottled:
		l.throttled++
	case outcome != cloud.OutcomeOK:
		l.failed++
	case action == "CreateRoute":
		l.creates = append(l.creates, took)
	}
}

// lastCreate is the duration of the last successful CreateRoute call.
func (l *awsCallLog) lastCreate() (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.creates) == 0 {
		return 0, false
	}
	return l.creates[len(l.creates)-1], true
}

func (l *awsCallLog) counts() (throttled, failed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.throttled, l.failed
}

// pinAWSBenchEnv clears every variable that could steer the SDK to a real
// endpoint, file, profile or metadata service, and sets the simulator's
// key: the default credential chain then stops at the environment.
func pinAWSBenchEnv(b *testing.B) {
	none := filepath.Join(b.TempDir(), "none")
	for k, v := range map[string]string{
		"AWS_CONFIG_FILE": none, "AWS_SHARED_CREDENTIALS_FILE": none,
		"AWS_PROFILE": "", "AWS_DEFAULT_PROFILE": "", "AWS_REGION": "", "AWS_DEFAULT_REGION": "",
		"AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_EC2": "", "AWS_EC2_METADATA_SERVICE_ENDPOINT": "",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "",
		"AWS_WEB_IDENTITY_TOKEN_FILE": "", "AWS_ROLE_ARN": "", "AWS_CA_BUNDLE": "",
		"AWS_EC2_METADATA_DISABLED": "true",
		"AWS_ACCESS_KEY_ID":         awsBenchKey, "AWS_SECRET_ACCESS_KEY": awsBenchSecret, "AWS_SESSION_TOKEN": "",
	} {
		b.Setenv(k, v)
	}
}
