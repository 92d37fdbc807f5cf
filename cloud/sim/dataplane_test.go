package sim

import (
	"fmt"
	"math/rand"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/vpc"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/vpcroute/vpcroute/internal/testsupport"
)

// routerNetns creates a network namespace playing the VPC router: a veth
// pair (both ends inside; the dummy module may be missing) whose "vsw" end
// holds 192.168.1.253/24, so the instances' addresses are on-link gateways.
// The namespace is deleted when the test ends.
func routerNetns(t *testing.T) (string, *netlink.Handle) {
	t.Helper()
	testsupport.RequireRoot(t, "creates a network namespace")
	name := fmt.Sprintf("vpcroute-simtest-%d-%04x", os.Getpid(), rand.Intn(1<<16))
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", name, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "delete", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns delete %s: %v: %s", name, err, out)
		}
	})
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
	vsw := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "vsw"}, PeerName: "vsw-peer"}
	if err := h.LinkAdd(vsw); err != nil {
		t.Fatalf("add veth pair: %v", err)
	}
	peer, err := h.LinkByName("vsw-peer")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.LinkSetUp(peer); err != nil {
		t.Fatal(err)
	}
	addr, err := netlink.ParseAddr("192.168.1.253/24")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.AddrAdd(vsw, addr); err != nil {
		t.Fatal(err)
	}
	if err := h.LinkSetUp(vsw); err != nil {
		t.Fatal(err)
	}
	return name, h
}

// kernelRoute returns "gw proto" of the route to dest in the namespace's
// main table, or "" if there is none.
func kernelRoute(t *testing.T, h *netlink.Handle, dest string) string {
	t.Helper()
	_, want, err := net.ParseCIDR(dest)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := h.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_TABLE)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Dst != nil && r.Dst.String() == want.String() {
			return fmt.Sprintf("%s %d", r.Gw, r.Protocol)
		}
	}
	return ""
}

func addForeignRoute(t *testing.T, h *netlink.Handle, dest, gw string, proto netlink.RouteProtocol) {
	t.Helper()
	_, dst, err := net.ParseCIDR(dest)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.RouteAdd(&netlink.Route{Dst: dst, Gw: net.ParseIP(gw), Protocol: proto}); err != nil {
		t.Fatalf("add route %s: %v", dest, err)
	}
}

func TestDataplaneFollowsRouteTable(t *testing.T) {
	name, h := routerNetns(t)
	addForeignRoute(t, h, "10.9.0.0/24", "192.168.1.200", unix.RTPROT_STATIC) // someone else's
	addForeignRoute(t, h, "10.8.0.0/24", "192.168.1.201", RouteProtocol)      // left by a crashed run
	ts := NewTestServer(t, DefaultTopology(), WithPendingDelay(time.Hour), WithDataplane(name))
	ours := fmt.Sprint(int(RouteProtocol))

	if got := kernelRoute(t, h, "10.8.0.0/24"); got != "" {
		t.Errorf("stale route of a previous run kept: %s", got)
	}
	createEntry(t, ts, "10.1.0.0/24", "i-bbb")
	if got := kernelRoute(t, h, "10.1.0.0/24"); got != "" {
		t.Fatalf("Pending entry already in the kernel: %s", got)
	}
	ts.Settle()
	if got := kernelRoute(t, h, "10.1.0.0/24"); got != "192.168.1.197 "+ours {
		t.Fatalf("Available entry: kernel route %q, want via 192.168.1.197 proto %s", got, ours)
	}

	// An instance that goes away takes its kernel route with it; its entry
	// stays in the table, stale.
	if err := ts.RemoveInstance("i-bbb", false); err != nil {
		t.Fatal(err)
	}
	if got := kernelRoute(t, h, "10.1.0.0/24"); got != "" {
		t.Errorf("route to a removed instance kept: %s", got)
	}
	if err := ts.AddInstance(InstanceSpec{ID: "i-bbb", PrivateIP: "192.168.1.197"}); err != nil {
		t.Fatal(err)
	}
	if got := kernelRoute(t, h, "10.1.0.0/24"); got != "192.168.1.197 "+ours {
		t.Errorf("instance back: kernel route %q", got)
	}

	del := at(ts, vpc.CreateDeleteRouteEntryRequest())
	del.RouteTableId, del.DestinationCidrBlock = testTable, "10.1.0.0/24"
	if _, err := vpcClient(t).DeleteRouteEntry(del); err != nil {
		t.Fatal(err)
	}
	if got := kernelRoute(t, h, "10.1.0.0/24"); got == "" {
		t.Error("a Deleting entry still forwards until it is gone, but its kernel route vanished")
	}
	ts.Settle()
	if got := kernelRoute(t, h, "10.1.0.0/24"); got != "" {
		t.Errorf("deleted entry: kernel route %q kept", got)
	}

	// A destination held by a foreign kernel route is reported, not taken.
	if _, err := ts.PutRoute(PutRouteRequest{Table: testTable, Destination: "10.9.0.0/24", NextHopType: "Instance", NextHopID: "i-aaa"}); err != nil {
		t.Fatal(err)
	}
	if got := kernelRoute(t, h, "10.9.0.0/24"); got != fmt.Sprintf("192.168.1.200 %d", unix.RTPROT_STATIC) {
		t.Errorf("foreign route changed: %q", got)
	}
	st, err := ts.Dataplane()
	if err != nil {
		t.Fatal(err)
	}
	if !st.Enabled || st.Netns != name || !strings.Contains(st.LastError, "10.9.0.0/24") {
		t.Errorf("data plane status = %+v", st)
	}

	// The NAT gateway default route is never programmed: only Instance hops.
	if got := kernelRoute(t, h, "0.0.0.0/0"); got != "" {
		t.Errorf("default route programmed: %s", got)
	}

	createEntry(t, ts, "10.0.0.0/24", "i-aaa")
	ts.Settle()
	if err := ts.Close(); err != nil && !strings.Contains(err.Error(), "10.9.0.0/24") {
		t.Fatalf("close: %v", err)
	}
	if got := kernelRoute(t, h, "10.0.0.0/24"); got != "" {
		t.Errorf("route kept after Close: %s", got)
	}
	if got := kernelRoute(t, h, "10.9.0.0/24"); got == "" {
		t.Error("Close removed a foreign route")
	}
}

func TestDataplaneTimedTransition(t *testing.T) {
	name, h := routerNetns(t)
	ts := NewTestServer(t, DefaultTopology(), WithPendingDelay(50*time.Millisecond), WithDataplane(name))
	createEntry(t, ts, "10.0.0.0/24", "i-aaa")
	deadline := time.Now().Add(5 * time.Second)
	for kernelRoute(t, h, "10.0.0.0/24") == "" {
		if time.Now().After(deadline) {
			t.Fatal("kernel route never appeared after the pending delay")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if e := entryByDest(listEntries(t, ts, nil), "10.0.0.0/24"); e.Status != "Available" {
		t.Errorf("kernel route present while the entry is %s", e.Status)
	}
}

func TestDataplaneMissingNetns(t *testing.T) {
	_, err := New(DefaultTopology(), WithDataplane("vpcroute-no-such-netns"))
	if err == nil || !strings.Contains(err.Error(), "vpcroute-no-such-netns") {
		t.Errorf("want an error naming the namespace, got %v", err)
	}
}
