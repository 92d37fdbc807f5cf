package reconciler

import (
	"context"
	"net/netip"
	"slices"
	"sync"

	"github.com/vpcroute/vpcroute/cloud"
)

// fakeProvider is an in-memory cloud for the loop's logic tests; the
// provider itself is tested against the simulator in cloud/aliyun.
type fakeProvider struct {
	mu      sync.Mutex
	network cloud.Network
	tables  map[string][]cloud.Route
	gone    map[string]bool // instance IDs
	goneErr error
	// targets overrides the target InstanceTargets gives an instance
	// (default: the instance itself); unlisted instances are left out of
	// its answer, like gone ones; targetsErr fails it.
	targets    map[string]cloud.Target
	unlisted   map[string]bool
	targetsErr error
	calls      map[string]int
	// cluster marks the entries it creates, as a real provider marks
	// them with the cluster it was built for.
	cluster string
}

func newFake(tables ...string) *fakeProvider {
	f := &fakeProvider{tables: map[string][]cloud.Route{}, gone: map[string]bool{}, calls: map[string]int{},
		targets: map[string]cloud.Target{}, unlisted: map[string]bool{}, cluster: "prod",
		network: cloud.Network{VPCID: "vpc-1", CIDRs: []netip.Prefix{pfx("192.168.0.0/16")}, RouteTables: tables}}
	for _, t := range tables {
		f.tables[t] = nil
	}
	return f
}

func (f *fakeProvider) count(action string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[action]++
}

func (f *fakeProvider) Name() string                                 { return "fake" }
func (f *fakeProvider) Self(context.Context) (cloud.Instance, error) { return cloud.Instance{}, nil }
func (f *fakeProvider) Network(context.Context) (cloud.Network, error) {
	f.count("Network")
	return f.network, nil
}

func (f *fakeProvider) Routes(_ context.Context, table string) ([]cloud.Route, error) {
	f.count("Routes")
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.tables[table]), nil
}

func (f *fakeProvider) CreateRoutes(_ context.Context, table string, rs []cloud.Route) error {
	f.count("CreateRoutes")
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range rs {
		r.TableID, r.Cluster, r.Status = table, f.cluster, cloud.StatusAvailable
		f.tables[table] = append(f.tables[table], r)
	}
	return nil
}

func (f *fakeProvider) DeleteRoutes(_ context.Context, table string, rs []cloud.Route) error {
	f.count("DeleteRoutes")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tables[table] = slices.DeleteFunc(f.tables[table], func(e cloud.Route) bool {
		return slices.ContainsFunc(rs, func(r cloud.Route) bool { return r.Destination == e.Destination && r.Target == e.Target })
	})
	return nil
}

func (f *fakeProvider) GoneTargets(_ context.Context, ts []cloud.Target) ([]cloud.Target, error) {
	f.count("GoneTargets")
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.goneErr != nil {
		return nil, f.goneErr
	}
	var out []cloud.Target
	for _, t := range ts {
		if f.gone[t.ID] {
			out = append(out, t)
		}
	}
	return out, nil
}

func (f *fakeProvider) InstanceTargets(_ context.Context, claims map[string]cloud.Target) (map[string]cloud.Target, error) {
	f.count("InstanceTargets")
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.targetsErr != nil {
		return nil, f.targetsErr
	}
	out := map[string]cloud.Target{}
	for id := range claims {
		if f.gone[id] || f.unlisted[id] {
			continue
		}
		t, ok := f.targets[id]
		if !ok {
			t = cloud.Target{Kind: cloud.TargetInstance, ID: id}
		}
		out[id] = t
	}
	return out, nil
}

func (f *fakeProvider) put(r cloud.Route) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tables[r.TableID] = append(f.tables[r.TableID], r)
}

func (f *fakeProvider) calls0() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.calls
	f.calls = map[string]int{}
	return out
}

// state renders every table compactly, sorted.
func (f *fakeProvider) state() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var all []cloud.Route
	for _, rs := range f.tables {
		all = append(all, rs...)
	}
	sortRoutes(all)
	return summary(Changes{Create: all})
}
