package registry

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/vpcroute/vpcroute/reconciler/allocate"
	"github.com/vpcroute/vpcroute/reconciler/registry/etcdtest"
)

// firstFree is the chooser every host of these tests uses: keep the
// current lease, else the lowest free /24 of 10.0.0.0/16. All hosts
// wanting the same subnet first is the worst case for the
// compare-and-swap.
func firstFree(current netip.Prefix, others []netip.Prefix) (netip.Prefix, error) {
	if current.IsValid() {
		return current, nil
	}
	p, ok := allocate.Pick(allocate.Space{Cluster: netip.MustParsePrefix("10.0.0.0/16"), Bits: 24}, 0, others)
	if !ok {
		return netip.Prefix{}, fmt.Errorf("no free subnet")
	}
	return p, nil
}

// TestLeaseSubnetConcurrent: N hosts leasing at once get N distinct
// subnets; asking again returns the same one; two processes of one
// instance racing get one lease between them.
func TestLeaseSubnetConcurrent(t *testing.T) {
	srv := etcdtest.Start(t)
	const n = 24
	regs := make([]*Registry, 4)
	for i := range regs {
		regs[i], _ = openOn(t, srv, nil)
	}
	ctx := testCtx(t)
	// Two callers for every instance: k and k+n both lease i-<k>.
	all := make([]netip.Prefix, 2*n)
	errs := make([]error, 2*n)
	var wg sync.WaitGroup
	for k := range 2 * n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			all[k], errs[k] = regs[k%len(regs)].LeaseSubnet(ctx, fmt.Sprintf("i-%02d", k%n), firstFree)
		}()
	}
	wg.Wait()
	got := all[:n]
	for i := range n {
		if errs[i] == nil && errs[i+n] == nil && all[i] != all[i+n] {
			errs[i] = fmt.Errorf("the two callers got %s and %s", all[i], all[i+n])
		} else if errs[i] == nil {
			errs[i] = errs[i+n]
		}
	}
	seen := map[netip.Prefix]int{}
	for i, p := range got {
		if errs[i] != nil {
			t.Fatalf("i-%02d: %v", i, errs[i])
		}
		if j, dup := seen[p]; dup {
			t.Fatalf("i-%02d and i-%02d both got %s", j, i, p)
		}
		seen[p] = i
	}
	leases, err := regs[0].SubnetLeases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(leases) != n {
		t.Fatalf("%d subnet keys for %d instances: %v", len(leases), n, leases)
	}
	for _, l := range leases {
		var i int
		if _, err := fmt.Sscanf(l.Instance, "i-%02d", &i); err != nil || got[i] != l.Subnet {
			t.Errorf("lease %+v does not match what %s was given", l, l.Instance)
		}
	}
	// Sticky: asking again returns the same subnet and writes nothing.
	raw := rawClient(t, srv)
	before, err := raw.Get(ctx, "/")
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		p, err := regs[1].LeaseSubnet(ctx, fmt.Sprintf("i-%02d", i), firstFree)
		if err != nil || p != got[i] {
			t.Fatalf("i-%02d again: %s, %v; want %s", i, p, err, got[i])
		}
	}
	after, err := raw.Get(ctx, "/")
	if err != nil {
		t.Fatal(err)
	}
	if after.Header.Revision != before.Header.Revision {
		t.Errorf("asking again wrote to etcd (revision %d -> %d)", before.Header.Revision, after.Header.Revision)
	}
}

func TestLeaseSubnetMoveReleaseAndOverlap(t *testing.T) {
	srv := etcdtest.Start(t)
	r, _ := openOn(t, srv, nil)
	ctx := testCtx(t)
	fixed := func(p string) ChooseSubnet {
		return func(netip.Prefix, []netip.Prefix) (netip.Prefix, error) { return netip.MustParsePrefix(p), nil }
	}
	if _, err := r.LeaseSubnet(ctx, "i-aaa", fixed("10.1.0.0/24")); err != nil {
		t.Fatal(err)
	}
	// Overlapping leases are refused whichever way they nest.
	for _, p := range []string{"10.1.0.0/24", "10.1.0.128/25", "10.0.0.0/8", "10.1.0.0/16"} {
		if _, err := r.LeaseSubnet(ctx, "i-bbb", fixed(p)); err == nil || !strings.Contains(err.Error(), "overlaps 10.1.0.0/24, leased to another host") {
			t.Errorf("i-bbb leasing %s: %v", p, err)
		}
	}
	// The refusal holds at the transaction too: a chooser that ignores the
	// others is still stopped by the compare of the key range.
	if _, err := r.swapLease(ctx, "i-bbb", leaseState{rev: 1}, netip.MustParsePrefix("10.1.0.0/25")); err != nil {
		t.Fatal(err)
	} else if l, _ := r.SubnetLeases(ctx); len(l) != 1 {
		t.Errorf("a stale swap wrote a lease: %v", l)
	}
	// Moving i-aaa's lease drops the old one in the same transaction.
	if p, err := r.LeaseSubnet(ctx, "i-aaa", fixed("10.2.0.0/24")); err != nil || p.String() != "10.2.0.0/24" {
		t.Fatalf("move: %s %v", p, err)
	}
	if p, err := r.LeaseSubnet(ctx, "i-bbb", fixed("10.1.0.0/24")); err != nil || p.String() != "10.1.0.0/24" {
		t.Fatalf("i-bbb after the move: %s %v", p, err)
	}
	// Release frees the subnet for another host.
	if p, err := r.ReleaseSubnet(ctx, "i-aaa"); err != nil || p.String() != "10.2.0.0/24" {
		t.Fatalf("release: %s %v", p, err)
	}
	if p, err := r.ReleaseSubnet(ctx, "i-aaa"); err != nil || p.IsValid() {
		t.Fatalf("release again: %s %v", p, err)
	}
	if p, err := r.LeaseSubnet(ctx, "i-ccc", fixed("10.2.0.0/24")); err != nil || p.String() != "10.2.0.0/24" {
		t.Fatalf("i-ccc after the release: %s %v", p, err)
	}
	leases, _ := r.SubnetLeases(ctx)
	var s []string
	for _, l := range leases {
		s = append(s, l.Instance+"="+l.Subnet.String())
	}
	sort.Strings(s)
	if strings.Join(s, " ") != "i-bbb=10.1.0.0/24 i-ccc=10.2.0.0/24" {
		t.Errorf("leases = %v", s)
	}
}

func TestCIDRKeysSortByAddress(t *testing.T) {
	r := &Registry{prefix: "/vpcroute/t/"}
	a, b := r.cidrKey(netip.MustParsePrefix("10.9.0.0/24")), r.cidrKey(netip.MustParsePrefix("10.10.0.0/24"))
	if a >= b {
		t.Errorf("%s sorts after %s", a, b)
	}
	if a != "/vpcroute/t/subnets/cidr/010.009.000.000-24" {
		t.Errorf("key = %s", a)
	}
	if p, ok := parseCIDRKey("010.009.000.000-24"); !ok || p.String() != "10.9.0.0/24" {
		t.Errorf("parse = %s %v", p, ok)
	}
}

// Forgetting a gone host removes its record and releases its lease: the
// subnet is free for another host.
func TestForgetReleasesTheLease(t *testing.T) {
	srv := etcdtest.Start(t)
	r, _ := openOn(t, srv, nil)
	ctx := testCtx(t)
	if err := r.Publish(ctx, testHost("i-gone", "192.168.1.9", "10.0.0.0/24")); err != nil {
		t.Fatal(err)
	}
	if _, err := r.LeaseSubnet(ctx, "i-gone", firstFree); err != nil {
		t.Fatal(err)
	}
	if err := r.Forget(ctx, "i-gone"); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := r.Get(ctx, "i-gone"); ok || err != nil {
		t.Errorf("record after Forget: ok %v, err %v", ok, err)
	}
	if l, err := r.SubnetLeases(ctx); err != nil || len(l) != 0 {
		t.Errorf("leases after Forget: %v, %v", l, err)
	}
	if err := r.Forget(ctx, "i-gone"); err != nil {
		t.Errorf("Forget of a forgotten host: %v", err)
	}
}
