package registry

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/reconciler"
	"github.com/vpcroute/vpcroute/reconciler/registry/etcdtest"
)

func TestPublishGetRemoveRoundTrip(t *testing.T) {
	srv := etcdtest.Start(t)
	r, _ := openOn(t, srv, nil)
	ctx := testCtx(t)

	if _, ok, err := r.Get(ctx, "i-aaa"); err != nil || ok {
		t.Fatalf("Get before publish = ok %v, err %v; want not found", ok, err)
	}
	want := testHost("i-aaa", "192.168.1.196", "10.0.0.0/24")
	want.StatusAddr = "192.168.1.196:9712"
	if err := r.Publish(ctx, want); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	got, ok, err := r.Get(ctx, "i-aaa")
	if err != nil || !ok {
		t.Fatalf("Get = ok %v, err %v", ok, err)
	}
	if got.Order == 0 {
		t.Fatal("Order not filled from the create revision")
	}
	if got.Revision < got.Order {
		t.Fatalf("Revision %d not filled from the mod revision (create revision %d)", got.Revision, got.Order)
	}
	want.Order, want.Revision = got.Order, got.Revision
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Get = %+v\nwant  %+v", got, want)
	}

	// A rewrite (new LastSeen) keeps the creation order.
	want.LastSeen = want.LastSeen.Add(time.Minute)
	if err := r.Publish(ctx, want); err != nil {
		t.Fatalf("Publish again: %v", err)
	}
	got, _, err = r.Get(ctx, "i-aaa")
	if err != nil {
		t.Fatal(err)
	}
	if got.Order != want.Order || !got.LastSeen.Equal(want.LastSeen) {
		t.Fatalf("after rewrite Order %d LastSeen %s, want %d %s", got.Order, got.LastSeen, want.Order, want.LastSeen)
	}
	if got.Revision <= want.Revision {
		t.Fatalf("after rewrite Revision %d, want more than %d: the leader sees a heartbeat by it", got.Revision, want.Revision)
	}

	if err := r.Remove(ctx, "i-aaa"); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if _, ok, err := r.Get(ctx, "i-aaa"); err != nil || ok {
		t.Fatalf("Get after Remove = ok %v, err %v; want not found", ok, err)
	}
	if err := r.Remove(ctx, "i-aaa"); err != nil {
		t.Fatalf("Remove of a missing record: %v", err)
	}
}

func TestHostsSortedWithCreationOrder(t *testing.T) {
	srv := etcdtest.Start(t)
	r, _ := openOn(t, srv, nil)
	other, _ := openOn(t, srv, func(o *Options) { o.Cluster = "other" })
	ctx := testCtx(t)

	// Created c, a, b: listed a, b, c with Order c < a < b.
	for _, h := range []reconciler.Host{
		testHost("i-ccc", "192.168.1.3", "10.3.0.0/24"),
		testHost("i-aaa", "192.168.1.1", "10.1.0.0/24"),
		testHost("i-bbb", "192.168.1.2", "10.2.0.0/24"),
	} {
		if err := r.Publish(ctx, h); err != nil {
			t.Fatal(err)
		}
	}
	if err := other.Publish(ctx, testHost("i-zzz", "192.168.9.9", "10.9.0.0/24")); err != nil {
		t.Fatal(err)
	}
	hosts, rev, err := r.Hosts(ctx)
	if err != nil {
		t.Fatalf("Hosts: %v", err)
	}
	if got := instances(hosts); !reflect.DeepEqual(got, []string{"i-aaa", "i-bbb", "i-ccc"}) {
		t.Fatalf("Hosts = %v, want i-aaa i-bbb i-ccc (sorted, this cluster only)", got)
	}
	a, b, c := hosts[0].Order, hosts[1].Order, hosts[2].Order
	if !(c < a && a < b) {
		t.Fatalf("Order a=%d b=%d c=%d, want c < a < b (creation order)", a, b, c)
	}
	if rev < b {
		t.Fatalf("revision %d older than the newest record's %d", rev, b)
	}

	// Re-registering after removal is a new claim: it orders last.
	if err := r.Remove(ctx, "i-aaa"); err != nil {
		t.Fatal(err)
	}
	if err := r.Publish(ctx, testHost("i-aaa", "192.168.1.1", "10.1.0.0/24")); err != nil {
		t.Fatal(err)
	}
	h, _, err := r.Get(ctx, "i-aaa")
	if err != nil {
		t.Fatal(err)
	}
	if h.Order <= b {
		t.Fatalf("re-registered Order %d, want > %d", h.Order, b)
	}
}

func TestHostsListsBadRecordsWithTheirProblem(t *testing.T) {
	srv := etcdtest.Start(t)
	r, _ := openOn(t, srv, nil)
	raw := rawClient(t, srv)
	ctx := testCtx(t)

	if err := r.Publish(ctx, testHost("i-good", "192.168.1.1", "10.1.0.0/24")); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Put(ctx, r.Prefix()+"hosts/i-garbage", "{not json"); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Put(ctx, r.Prefix()+"hosts/i-liar", `{"instance":"i-someone-else"}`); err != nil {
		t.Fatal(err)
	}
	huge := `{"instance":"i-huge","version":"` + strings.Repeat("x", reconciler.MaxRecordBytes) + `"}`
	if _, err := raw.Put(ctx, r.Prefix()+"hosts/i-huge", huge); err != nil {
		t.Fatal(err)
	}
	hosts, _, err := r.Hosts(ctx)
	if err != nil {
		t.Fatalf("Hosts: %v", err)
	}
	if got := instances(hosts); !reflect.DeepEqual(got, []string{"i-garbage", "i-good", "i-huge", "i-liar"}) {
		t.Fatalf("Hosts = %v, want every record, bad ones included", got)
	}
	wantProblem := map[string]string{
		"i-good":    "",
		"i-garbage": "record is not a valid host record",
		"i-huge":    fmt.Sprintf("record is %d bytes: expected at most %d", len(huge), reconciler.MaxRecordBytes),
		"i-liar":    `record names instance "i-someone-else": expected "i-liar"`,
	}
	for _, h := range hosts {
		want := wantProblem[h.Instance]
		if (want == "") != (h.Problem == "") || !strings.Contains(h.Problem, want) {
			t.Errorf("%s: Problem %q, want one containing %q", h.Instance, h.Problem, want)
		}
		if h.Order == 0 {
			t.Errorf("%s: no Order: a bad record still has its registry order", h.Instance)
		}
	}
	_, _, err = r.Get(ctx, "i-liar")
	if err == nil || !strings.Contains(err.Error(), `names instance "i-someone-else": expected "i-liar"`) {
		t.Fatalf("Get of a mismatched record: %v", err)
	}
}

func TestInstanceValidation(t *testing.T) {
	srv := etcdtest.Start(t)
	r, _ := openOn(t, srv, nil)
	ctx := testCtx(t)
	for _, bad := range []string{"", "i-a/b", "i a", "i-\n", strings.Repeat("x", 129)} {
		h := testHost("i-x", "192.168.1.1", "10.1.0.0/24")
		h.Instance = bad
		if err := r.Publish(ctx, h); err == nil {
			t.Errorf("Publish(%q) succeeded", bad)
		}
		if _, _, err := r.Get(ctx, bad); err == nil {
			t.Errorf("Get(%q) succeeded", bad)
		}
		if err := r.Remove(ctx, bad); err == nil {
			t.Errorf("Remove(%q) succeeded", bad)
		}
	}
	hosts, _, err := r.Hosts(ctx)
	if err != nil || len(hosts) != 0 {
		t.Fatalf("after refused writes Hosts = %v, %v; want none", instances(hosts), err)
	}
}

func TestReportRoundTrip(t *testing.T) {
	srv := etcdtest.Start(t)
	r, _ := openOn(t, srv, nil)
	ctx := testCtx(t)
	if _, ok, err := r.Report(ctx); err != nil || ok {
		t.Fatalf("Report before any = ok %v, err %v", ok, err)
	}
	want := reconciler.Report{
		Leader: "i-aaa", Trigger: "registry", Started: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		Duration: 1500 * time.Millisecond, Result: reconciler.ResultDegraded,
		Tables:  []reconciler.TableReport{{ID: "vtb-1", Desired: 3, Actual: 2, Pending: 1, Entries: 7}},
		Created: 1,
		ClaimConflicts: []reconciler.ClaimConflict{{
			Refused: reconciler.ClaimRef{Instance: "i-bbb", Subnet: testHost("i", "1.1.1.1", "10.1.0.0/24").Subnets[0].Subnet},
			Holder:  reconciler.ClaimRef{Instance: "i-aaa", Subnet: testHost("i", "1.1.1.1", "10.1.0.0/16").Subnets[0].Subnet},
		}},
		Held: []reconciler.Held{{Reason: reconciler.HeldNotGone}},
	}
	if err := r.PutReport(ctx, want); err != nil {
		t.Fatalf("PutReport: %v", err)
	}
	got, ok, err := r.Report(ctx)
	if err != nil || !ok {
		t.Fatalf("Report = ok %v, err %v", ok, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Report = %+v\nwant     %+v", got, want)
	}
}
