package aliyun

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/cloud/sim"
)

func instanceTarget(id string) cloud.Target { return cloud.Target{Kind: cloud.TargetInstance, ID: id} }

func targetIDs(ts []cloud.Target) []string {
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		out = append(out, t.ID)
	}
	return out
}

func TestGoneTargetsReleasedInstance(t *testing.T) {
	f := newFixture(t, nil)
	p := f.provider(t, "i-aaa")
	if err := f.sim.RemoveInstance("i-bbb", false); err != nil {
		t.Fatal(err)
	}
	in := []cloud.Target{instanceTarget("i-aaa"), instanceTarget("i-bbb"), instanceTarget("i-never-existed")}
	gone, err := p.GoneTargets(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if got := targetIDs(gone); !slices.Equal(got, []string{"i-bbb", "i-never-existed"}) {
		t.Errorf("gone = %v, want [i-bbb i-never-existed]", got)
	}
	if gone[0] != in[1] {
		t.Errorf("gone[0] = %+v, want the target as given: %+v", gone[0], in[1])
	}
	if n := f.sim.Stats().Calls("DescribeInstances"); n != 1 {
		t.Errorf("DescribeInstances calls = %d, want 1 for three IDs", n)
	}
}

func TestGoneTargetsStoppedIsPresent(t *testing.T) {
	f := newFixture(t, nil)
	p := f.provider(t, "i-aaa")
	if err := f.sim.AddInstance(sim.InstanceSpec{ID: "i-bbb", PrivateIP: "192.168.1.197", VSwitch: "vsw-lab", Status: "Stopped"}); err != nil {
		t.Fatal(err)
	}
	gone, err := p.GoneTargets(context.Background(), []cloud.Target{instanceTarget("i-aaa"), instanceTarget("i-bbb")})
	if err != nil {
		t.Fatal(err)
	}
	if len(gone) != 0 {
		t.Errorf("gone = %v, want none: a stopped instance keeps its routes", gone)
	}
}

func TestGoneTargetsNeverReportsOtherKinds(t *testing.T) {
	f := newFixture(t, nil)
	p := f.provider(t, "i-aaa")
	in := []cloud.Target{
		{Kind: cloud.TargetNetworkInterface, ID: "eni-missing"},
		{Kind: "VpnGateway", ID: "vpn-missing"},
		{Kind: "NatGateway", ID: "i-looks-like-an-instance"},
		{Kind: cloud.TargetInstance, ID: "not-an-instance-id"},
		{Kind: cloud.TargetInstance, ID: ""},
	}
	gone, err := p.GoneTargets(context.Background(), in)
	if err != nil || len(gone) != 0 {
		t.Errorf("GoneTargets = %v, %v; want none and no error", gone, err)
	}
	if n := f.sim.Stats().Total; n != 0 {
		t.Errorf("%d API calls for targets that cannot be checked, want 0", n)
	}
	gone, err = p.GoneTargets(context.Background(), nil)
	if err != nil || len(gone) != 0 {
		t.Errorf("GoneTargets(nil) = %v, %v", gone, err)
	}
}

func TestGoneTargetsBatchesOf100(t *testing.T) {
	const present, missing = 150, 60
	f := newFixture(t, func(topo *sim.Topology) {
		for i := range present {
			topo.Instances = append(topo.Instances, sim.InstanceSpec{
				ID: fmt.Sprintf("i-host%03d", i), PrivateIP: fmt.Sprintf("192.168.1.%d", i+1), VSwitch: "vsw-lab"})
		}
	})
	p := f.provider(t, "i-aaa")
	var in []cloud.Target
	var want []string
	for i := range present {
		in = append(in, instanceTarget(fmt.Sprintf("i-host%03d", i)))
		if i < missing {
			id := fmt.Sprintf("i-gone%03d", i)
			in = append(in, instanceTarget(id))
			want = append(want, id)
		}
	}
	// Routes of one instance in several tables name it several times.
	in = append(in, instanceTarget("i-gone000"), instanceTarget("i-host000"))
	gone, err := p.GoneTargets(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if got := targetIDs(gone); !slices.Equal(got, want) {
		t.Errorf("gone = %v (%d), want the %d unknown IDs once each", got, len(got), missing)
	}
	// 210 distinct IDs: 100 + 100 + 10.
	if n := f.sim.Stats().Count("DescribeInstances", "ok"); n != 3 {
		t.Errorf("DescribeInstances calls = %d, want 3", n)
	}
}

func TestGoneTargetsErrorReportsNothing(t *testing.T) {
	f := newFixture(t, nil)
	p := f.provider(t, "i-aaa")
	if err := f.sim.RemoveInstance("i-bbb", false); err != nil {
		t.Fatal(err)
	}
	if err := f.sim.AddFault(sim.FaultRule{Action: "DescribeInstances", Code: "Forbidden.RAM", HTTPStatus: 403}); err != nil {
		t.Fatal(err)
	}
	gone, err := p.GoneTargets(context.Background(), []cloud.Target{instanceTarget("i-bbb")})
	if gone != nil {
		t.Errorf("gone = %v on error, want nil", gone)
	}
	if err == nil || !strings.Contains(err.Error(), "DescribeInstances: Forbidden.RAM (HTTP 403)") || strings.Contains(err.Error(), "\n") {
		t.Errorf("err = %q, want one line naming the action and code", err)
	}
	if n := f.sim.Stats().Calls("DescribeInstances"); n != 1 {
		t.Errorf("calls = %d, want 1: permission errors are final", n)
	}
}

func TestGoneTargetsRetriesThrottling(t *testing.T) {
	f := newFixture(t, nil)
	p := f.provider(t, "i-aaa")
	if err := f.sim.AddFault(sim.FaultRule{Action: "DescribeInstances", Code: "Throttling.User", Count: 2}); err != nil {
		t.Fatal(err)
	}
	gone, err := p.GoneTargets(context.Background(), []cloud.Target{instanceTarget("i-aaa"), instanceTarget("i-zzz")})
	if err != nil {
		t.Fatal(err)
	}
	if got := targetIDs(gone); !slices.Equal(got, []string{"i-zzz"}) {
		t.Errorf("gone = %v, want [i-zzz]", got)
	}
	if st := f.sim.Stats(); st.Count("DescribeInstances", "Throttling.User") != 2 || st.Count("DescribeInstances", "ok") != 1 {
		t.Errorf("stats = %v", st.Actions)
	}
}

// fakeECS answers DescribeInstances from a function, for answers the
// simulator never gives.
type fakeECS func(*ecs.DescribeInstancesRequest) (*ecs.DescribeInstancesResponse, error)

func (f fakeECS) DescribeInstances(r *ecs.DescribeInstancesRequest) (*ecs.DescribeInstancesResponse, error) {
	return f(r)
}

func fakeProvider(api fakeECS) *Provider {
	return newWithAPI(Options{Settings: cloud.Settings{RetryTimeout: 1}}, nil, api, newCallContexts(), cloud.Instance{ID: "i-aaa", Region: "cn-zhangjiakou"})
}

func TestGoneTargetsDoubtfulAnswers(t *testing.T) {
	ids := []cloud.Target{instanceTarget("i-aaa"), instanceTarget("i-bbb")}
	t.Run("empty page short of the total", func(t *testing.T) {
		p := fakeProvider(func(*ecs.DescribeInstancesRequest) (*ecs.DescribeInstancesResponse, error) {
			resp := ecs.CreateDescribeInstancesResponse()
			resp.TotalCount = 2
			return resp, nil
		})
		gone, err := p.GoneTargets(context.Background(), ids)
		if err == nil || gone != nil || !strings.Contains(err.Error(), "page 1 is empty but 0 of 2") {
			t.Errorf("GoneTargets = %v, %v; want nil and an error", gone, err)
		}
	})
	t.Run("unasked instances vouch for nothing", func(t *testing.T) {
		p := fakeProvider(func(*ecs.DescribeInstancesRequest) (*ecs.DescribeInstancesResponse, error) {
			resp := ecs.CreateDescribeInstancesResponse()
			resp.Instances.Instance = []ecs.Instance{{InstanceId: "i-aaa"}, {InstanceId: "i-other"}}
			resp.TotalCount = 2
			return resp, nil
		})
		gone, err := p.GoneTargets(context.Background(), ids)
		if err != nil || !slices.Equal(targetIDs(gone), []string{"i-bbb"}) {
			t.Errorf("GoneTargets = %v, %v; want [i-bbb]", gone, err)
		}
	})
	t.Run("request", func(t *testing.T) {
		var got *ecs.DescribeInstancesRequest
		p := fakeProvider(func(r *ecs.DescribeInstancesRequest) (*ecs.DescribeInstancesResponse, error) {
			got = r
			return ecs.CreateDescribeInstancesResponse(), nil
		})
		if _, err := p.GoneTargets(context.Background(), ids); err != nil {
			t.Fatal(err)
		}
		if got.RegionId != "cn-zhangjiakou" || got.InstanceIds != `["i-aaa","i-bbb"]` || got.PageSize != "100" {
			t.Errorf("request: RegionId=%q InstanceIds=%q PageSize=%q", got.RegionId, got.InstanceIds, got.PageSize)
		}
	})
	t.Run("error in the second batch", func(t *testing.T) {
		calls := 0
		p := fakeProvider(func(*ecs.DescribeInstancesRequest) (*ecs.DescribeInstancesResponse, error) {
			calls++
			if calls == 2 {
				return nil, errors.New("connection reset")
			}
			return ecs.CreateDescribeInstancesResponse(), nil // none of the first 100 exists
		})
		var many []cloud.Target
		for i := range 150 {
			many = append(many, instanceTarget(fmt.Sprintf("i-gone%03d", i)))
		}
		gone, err := p.GoneTargets(context.Background(), many)
		if err == nil || gone != nil || calls != 2 {
			t.Errorf("GoneTargets = %d targets, %v after %d calls; want nil and an error: a partial answer must not leak", len(gone), err, calls)
		}
	})
	t.Run("transport error", func(t *testing.T) {
		p := fakeProvider(func(*ecs.DescribeInstancesRequest) (*ecs.DescribeInstancesResponse, error) {
			return nil, errors.New("connection reset")
		})
		gone, err := p.GoneTargets(context.Background(), ids)
		if err == nil || gone != nil {
			t.Errorf("GoneTargets = %v, %v; want nil and an error", gone, err)
		}
	})
}

// The leader derives each host's target from ECS: the instance itself,
// once ECS lists it in this VPC, stopped or not.
func TestInstanceTargets(t *testing.T) {
	f := newFixture(t, nil)
	p := f.provider(t, "i-aaa")
	if err := f.sim.RemoveInstance("i-bbb", false); err != nil {
		t.Fatal(err)
	}
	if err := f.sim.AddInstance(sim.InstanceSpec{ID: "i-stopped", PrivateIP: "192.168.1.198", VSwitch: "vsw-lab", Status: "Stopped"}); err != nil {
		t.Fatal(err)
	}
	ngw := cloud.Target{Kind: "NatGateway", ID: "ngw-1"}
	got, err := p.InstanceTargets(context.Background(), map[string]cloud.Target{"i-aaa": ngw, "i-bbb": instanceTarget("i-bbb"),
		"i-stopped": instanceTarget("i-aaa"), "i-never-existed": ngw, "i-BAD/id": ngw, "ngw-1": ngw})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]cloud.Target{"i-aaa": instanceTarget("i-aaa"), "i-stopped": instanceTarget("i-stopped")}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("InstanceTargets = %v, want %v", got, want)
	}
	if n := f.sim.Stats().Calls("DescribeInstances"); n != 1 {
		t.Errorf("DescribeInstances calls = %d, want 1 (malformed IDs never sent)", n)
	}
}
