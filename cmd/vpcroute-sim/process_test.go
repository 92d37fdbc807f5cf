package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/vpc"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/vpcroute/vpcroute/cloud/sim"
	"github.com/vpcroute/vpcroute/internal/procstop"
	"github.com/vpcroute/vpcroute/internal/testsupport"
)

var binPath string

// TestMain builds the binary once: these tests run it as a process, the way
// the lab and the end-to-end tests do (with -race when this test binary has
// it; a race the child reports fails the test).
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "vpcroute-sim-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "vpcroute-sim")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	err = testsupport.BuildBinaries(ctx, dir, testsupport.VpcrouteSimPkg)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type simProcess struct {
	cmd     *exec.Cmd
	addrs   []string
	stderr  *syncBuffer
	exited  chan struct{} // closed once Wait returned; waitErr is then set
	rest    chan string   // stdout lines after the listening lines
	waitErr error
}

// syncBuffer collects the child's stderr; the test may read it while the
// child still writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startSim runs argv (the binary, or a wrapper such as ip netns exec) and
// reads one "listening on" line per listener.
func startSim(t *testing.T, listeners int, argv ...string) *simProcess {
	t.Helper()
	p := &simProcess{cmd: exec.Command(argv[0], argv[1:]...), stderr: &syncBuffer{}, exited: make(chan struct{})}
	p.cmd.Stderr = testsupport.WatchChild(t, "vpcroute-sim", p.stderr)
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		p.waitErr = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = procstop.Stop(p.cmd.Process, p.exited, os.Kill, 0) // the test failed before stopping it

	})
	for len(p.addrs) < listeners {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("simulator exited before listening: %s", p.stderr)
			}
			addr, found := strings.CutPrefix(line, "listening on ")
			if !found {
				t.Fatalf("stdout line %q, want \"listening on ADDR\"", line)
			}
			p.addrs = append(p.addrs, addr)
		case <-time.After(30 * time.Second):
			t.Fatalf("no listening line after 30s: %s", p.stderr)
		}
	}
	// Later lines stay readable (nextLine); beyond the buffer they are
	// dropped so that the child never blocks on stdout.
	p.rest = make(chan string, 64)
	go func() {
		for line := range lines {
			select {
			case p.rest <- line:
			default:
			}
		}
		close(p.rest)
	}()
	return p
}

// nextLine returns the next stdout line after the listening lines.
func (p *simProcess) nextLine(t *testing.T) string {
	t.Helper()
	select {
	case line, ok := <-p.rest:
		if !ok {
			t.Fatalf("simulator stdout closed: %s", p.stderr)
		}
		return line
	case <-time.After(10 * time.Second):
		t.Fatalf("no further stdout line after 10s: %s", p.stderr)
		return ""
	}
}

// stop sends SIGTERM and returns the exit error.
func (p *simProcess) stop(t *testing.T) error {
	t.Helper()
	if err := procstop.Stop(p.cmd.Process, p.exited, syscall.SIGTERM, 15*time.Second); err != nil {
		t.Fatalf("vpcroute-sim %v: %s", err, p.stderr)
	}
	return p.waitErr
}

func unixClient(sock string) *http.Client {
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		}}}
}

func getJSON(t *testing.T, c *http.Client, method, url, body string, out any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%s %s: %d %s %v", method, url, resp.StatusCode, data, err)
	}
	if err := json.Unmarshal(data, out); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
}

func TestProcessServesSDKAndAdminThenStops(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "sim.sock")
	p := startSim(t, 2, binPath, "--listen", "127.0.0.1:0", "--listen", "unix:"+sock, "--pending-delay", "0", "--log-level", "debug")
	if !strings.HasPrefix(p.addrs[0], "127.0.0.1:") || p.addrs[1] != "unix:"+sock {
		t.Fatalf("listening on %v", p.addrs)
	}

	client, err := vpc.NewClientWithOptions("cn-zhangjiakou", sdk.NewConfig(), credentials.NewAccessKeyCredential("LTAI-test", "test-secret"))
	if err != nil {
		t.Fatal(err)
	}
	req := vpc.CreateCreateRouteEntryRequest()
	req.SetDomain(p.addrs[0])
	req.SetScheme("http")
	req.RouteTableId, req.DestinationCidrBlock, req.NextHopType, req.NextHopId = "vtb-lab", "10.1.0.0/24", "Instance", "i-bbb"
	if _, err := client.CreateRouteEntry(req); err != nil {
		t.Fatalf("CreateRouteEntry over TCP: %v", err)
	}

	uc := unixClient(sock)
	var routes struct{ Tables []sim.Table }
	getJSON(t, uc, "GET", "http://sim/sim/v1/routes", "", &routes)
	found := false
	for _, e := range routes.Tables[0].Entries {
		found = found || (e.Destination == "10.1.0.0/24" && e.Status == "Available" && e.NextHopID == "i-bbb")
	}
	if !found {
		t.Errorf("admin API over the unix socket does not show the entry: %+v", routes.Tables)
	}
	var st sim.Stats
	getJSON(t, uc, "GET", "http://sim/sim/v1/stats", "", &st)
	if st.Count("CreateRouteEntry", "ok") != 1 || st.Writes != 1 {
		t.Errorf("stats = %+v", st)
	}

	if err := p.stop(t); err != nil {
		t.Fatalf("exit after SIGTERM: %v: %s", err, p.stderr)
	}
	if _, err := os.Stat(sock); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket file left behind: %v", err)
	}
	if strings.Contains(p.stderr.String(), "test-secret") {
		t.Error("the log carries a secret")
	}
}

func TestProcessBadInput(t *testing.T) {
	dir := t.TempDir()
	badTopo := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(badTopo, []byte("region: r\nvpc: {id: vpc-1, cidr: 10.0.0.0/40}\nvswitches: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--pending-delay", "-1s"}, `--pending-delay="-1s"`},
		{[]string{"--listen", "nowhere"}, `--listen="nowhere"`},
		{[]string{"--topology", badTopo}, `vpc.cidr="10.0.0.0/40": expected an IPv4 CIDR`},
		{[]string{"--topology", filepath.Join(dir, "none.yaml")}, "none.yaml"},
		{[]string{"--dataplane-netns", "vpcroute-missing-ns"}, `"vpcroute-missing-ns"`},
		{[]string{"--no-such-flag"}, "unknown flag: --no-such-flag"},
		{[]string{"--topology-default", "aws", "--metadata-listen", "i-nope=127.0.0.1:0"}, `--metadata-listen="i-nope=127.0.0.1:0": expected the ID of an instance`},
	}
	for _, tc := range cases {
		cmd := exec.Command(binPath, tc.args...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		testsupport.CheckChild(t, "vpcroute-sim", stderr.String(), err)
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 {
			t.Errorf("%v: exit %v, want 1", tc.args, err)
		}
		msg := strings.TrimSuffix(stderr.String(), "\n")
		if !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") || stdout.Len() != 0 {
			t.Errorf("%v: stderr %q stdout %q, want one line mentioning %q", tc.args, msg, stdout.String(), tc.want)
		}
	}
}

func TestProcessPrintTopology(t *testing.T) {
	out, err := exec.Command(binPath, "--print-topology").Output()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sim.ParseTopology(out); err != nil {
		t.Errorf("printed topology does not parse: %v", err)
	}
}

// TestProcessDataplaneSelf runs the simulator inside a router namespace, as
// the lab does, with --dataplane-netns self, and drives it over a unix
// socket from the root namespace.
func TestProcessDataplaneSelf(t *testing.T) {
	testsupport.RequireRoot(t, "creates a network namespace")
	name := fmt.Sprintf("vpcroute-simcmd-%d-%04x", os.Getpid(), rand.Intn(1<<16))
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "delete", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns delete %s: %v: %s", name, err, out)
		}
	})
	h := routerLink(t, name)

	sock := filepath.Join(t.TempDir(), "sim.sock")
	p := startSim(t, 1, "ip", "netns", "exec", name, binPath, "--listen", "unix:"+sock, "--dataplane-netns", "self", "--pending-delay", "0")
	uc := unixClient(sock)
	var e sim.Entry
	getJSON(t, uc, "POST", "http://sim/sim/v1/routes",
		`{"table":"vtb-lab","destination":"10.1.0.0/24","nextHopType":"Instance","nextHopId":"i-bbb","name":"vpcroute"}`, &e)
	if got := routeVia(t, h, "10.1.0.0/24"); got != "192.168.1.197" {
		t.Fatalf("kernel route in the router namespace: %q, want via 192.168.1.197", got)
	}
	var dp sim.DataplaneStatus
	getJSON(t, uc, "GET", "http://sim/sim/v1/dataplane", "", &dp)
	if !dp.Enabled || len(dp.Routes) != 1 || dp.Routes[0].Gateway != "192.168.1.197" {
		t.Errorf("dataplane status = %+v", dp)
	}
	if err := p.stop(t); err != nil {
		t.Fatalf("exit after SIGTERM: %v: %s", err, p.stderr)
	}
	if got := routeVia(t, h, "10.1.0.0/24"); got != "" {
		t.Errorf("kernel route left after SIGTERM: via %s", got)
	}
}

// routerLink gives the namespace a veth end holding the router's address.
func routerLink(t *testing.T, name string) *netlink.Handle {
	t.Helper()
	ns, err := netns.GetFromName(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ns.Close() })
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	if err := h.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "vsw"}, PeerName: "vsw-peer"}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"vsw", "vsw-peer"} {
		l, err := h.LinkByName(n)
		if err != nil {
			t.Fatal(err)
		}
		if n == "vsw" {
			addr, _ := netlink.ParseAddr("192.168.1.253/24")
			if err := h.AddrAdd(l, addr); err != nil {
				t.Fatal(err)
			}
		}
		if err := h.LinkSetUp(l); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

func routeVia(t *testing.T, h *netlink.Handle, dest string) string {
	t.Helper()
	rs, err := h.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_TABLE)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Dst != nil && r.Dst.String() == dest {
			return r.Gw.String()
		}
	}
	return ""
}
