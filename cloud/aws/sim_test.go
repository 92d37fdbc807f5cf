package aws

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/cloud/sim"
)

// These tests run the real aws-sdk-go-v2 against the simulator on
// loopback, through New: endpoint, IMDSv2 and the credential chain as in
// production. Every HTTP request goes through loopbackClient, which
// refuses to dial anything but loopback, and the environment is pinned so
// that no shared config, profile or endpoint variable of the machine can
// steer the SDK elsewhere.

// The default AWS topology of the simulator.
const (
	simKey    = "AKIASIMULATOR0000001"
	simSecret = "sim-aws-secret"
	simRegion = "eu-west-1"
	simVPC    = "vpc-0a1b2c3d4e5f60001"
	simTable  = "rtb-0a1b2c3d4e5f60001"
	simInstA  = "i-0aaaaaaaaaaaaaaaa"
	simInstB  = "i-0bbbbbbbbbbbbbbbb"
	simENIA   = "eni-0aaaaaaaaaaaaaaaa"
	simENIB   = "eni-0bbbbbbbbbbbbbbbb"
)

// loopbackClient refuses to dial anything but a loopback address.
func loopbackClient() *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
				return nil, fmt.Errorf("test client refuses to dial %s: only loopback is allowed", addr)
			}
			return d.DialContext(ctx, network, addr)
		},
	}}
}

// pinEnv clears every variable that could point the SDK at a real
// endpoint, file or profile, and sets the simulator's static key unless
// withKey is false.
func pinEnv(t testing.TB, withKey bool) {
	t.Helper()
	none := filepath.Join(t.TempDir(), "none")
	for k, v := range map[string]string{
		"AWS_CONFIG_FILE": none, "AWS_SHARED_CREDENTIALS_FILE": none,
		"AWS_PROFILE": "", "AWS_DEFAULT_PROFILE": "", "AWS_REGION": "", "AWS_DEFAULT_REGION": "",
		"AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_EC2": "", "AWS_EC2_METADATA_SERVICE_ENDPOINT": "",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "",
		"AWS_WEB_IDENTITY_TOKEN_FILE": "", "AWS_ROLE_ARN": "", "AWS_SESSION_TOKEN": "",
		"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_CA_BUNDLE": "",
		// The simulator is the metadata service in these tests.
		"AWS_EC2_METADATA_DISABLED": "false",
	} {
		t.Setenv(k, v)
	}
	if withKey {
		t.Setenv("AWS_ACCESS_KEY_ID", simKey)
		t.Setenv("AWS_SECRET_ACCESS_KEY", simSecret)
	}
}

// newSim starts the default AWS world, edited.
func newSim(t *testing.T, edit func(*sim.Topology), opts ...sim.Option) *sim.TestServer {
	t.Helper()
	topo := sim.DefaultAWSTopology()
	if edit != nil {
		edit(&topo)
	}
	return sim.NewTestServer(t, topo, opts...)
}

// simOptions are the options of a provider on instance, cluster "lab"
// owning 10.0.0.0/8.
func simOptions(ts *sim.TestServer, instance string) Options {
	return Options{
		Settings: cloud.Settings{
			Endpoint:         ts.URL,
			MetadataEndpoint: ts.MetadataEndpoint(instance),
			Cluster:          testCluster,
			ClusterCIDR:      netip.MustParsePrefix("10.0.0.0/8"),
			RetryTimeout:     30 * time.Second,
		},
		ChangeTimeout: 5 * time.Second,
		httpClient:    loopbackClient(),
	}
}

// simProvider returns a provider for instance with the simulator's key.
func simProvider(t *testing.T, ts *sim.TestServer, instance string, edit func(*Options)) *Provider {
	t.Helper()
	pinEnv(t, true)
	o := simOptions(ts, instance)
	if edit != nil {
		edit(&o)
	}
	p, err := New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func simRoute(dst, eni string) cloud.Route {
	return cloud.Route{TableID: simTable, Destination: netip.MustParsePrefix(dst), Target: eniTarget(eni)}
}

// simOwned lists the routes of the default table owned by cluster "lab"
// as "dst>eni status".
func simOwned(t *testing.T, p *Provider) []string {
	t.Helper()
	rs, err := p.Routes(context.Background(), simTable)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rs {
		if r.OwnedBy(testCluster) {
			out = append(out, r.Destination.String()+">"+r.Target.ID+" "+r.Status)
		}
	}
	return out
}

// prepare runs PrepareHost for each instance, as each host's sync does.
func prepare(t *testing.T, ts *sim.TestServer, instances ...string) {
	t.Helper()
	for _, in := range instances {
		if err := simProvider(t, ts, in, nil).PrepareHost(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}
