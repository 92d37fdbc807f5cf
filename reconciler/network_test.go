package reconciler

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/cloud"
)

func TestNetworkReadFresh(t *testing.T) {
	const refresh = 10 * time.Minute
	tests := []struct {
		name string
		at   time.Time
		want bool
	}{
		{"never read", time.Time{}, false},
		{"read just now", t0, true},
		{"read a moment before the refresh is due", t0.Add(-refresh + time.Nanosecond), true},
		{"read exactly one refresh ago", t0.Add(-refresh), false},
		{"read long ago (leader long after connect)", t0.Add(-3 * time.Hour), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (NetworkRead{At: tt.at}).Fresh(t0, refresh); got != tt.want {
				t.Errorf("Fresh(at %s, now %s, refresh %s) = %v, want %v", tt.at, t0, refresh, got, tt.want)
			}
		})
	}
}

// The VPC read handed to the loop (the daemon's, at connect) is the first
// pass's while it is fresh: the pass plans with it and does not read the
// network; once it is older than NetworkRefresh, the first pass reads it.
func TestLoopStartsFromTheCallersNetworkRead(t *testing.T) {
	const refresh = 10 * time.Minute
	tests := []struct {
		name         string
		age          time.Duration
		wantNetworks int
	}{
		{"read a second before the first pass", time.Second, 0},
		{"read a refresh period before (leader long after connect)", refresh, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake("vtb-1", "vtb-2")
			// What the caller read names only vtb-1: a pass planned with it
			// writes there alone; one that read the network writes both.
			seeded := f.network
			seeded.RouteTables = []string{"vtb-1"}
			l, _ := newTestLoop(t, f, func(c *LoopConfig) {
				c.NetworkRefresh = refresh
				c.Network = NetworkRead{Network: seeded, At: t0.Add(-tt.age)}
			})
			hosts := []Host{host("i-aaa", 1, "10.1.0.0/24", 0)}
			rep := l.Pass(context.Background(), hosts, "start")
			c := f.calls0()
			if rep.Result != ResultOK || c["Network"] != tt.wantNetworks {
				t.Fatalf("first pass: result %s %s, %d Network reads, want %d", rep.Result, rep.Error, c["Network"], tt.wantNetworks)
			}
			want := "+vtb-1:10.1.0.0/24>i-aaa"
			if tt.wantNetworks == 1 {
				want += " +vtb-2:10.1.0.0/24>i-aaa"
			}
			if got := f.state(); got != want {
				t.Fatalf("tables %q, want %q", got, want)
			}
			l.Pass(context.Background(), hosts, "resync")
			if c := f.calls0(); c["Network"] != 0 {
				t.Fatalf("second pass read the network again: %v", c)
			}
		})
	}
}

// A seeded read is dropped like the loop's own after a table cannot be
// listed: the next pass reads the network.
func TestLoopRereadsASeededNetworkAfterAFailedList(t *testing.T) {
	f := newFake("vtb-1")
	seeded := f.network
	seeded.RouteTables = []string{"vtb-gone"}
	l, _ := newTestLoop(t, f, func(c *LoopConfig) { c.Network = NetworkRead{Network: seeded, At: t0} })
	l.cfg.Provider = failingRoutes{f, "vtb-gone"}
	hosts := []Host{host("i-aaa", 1, "10.1.0.0/24", 0)}
	if rep := l.Pass(context.Background(), hosts, "start"); rep.Result != ResultError {
		t.Fatalf("pass over a table that cannot be listed: %s", rep.Result)
	}
	rep := l.Pass(context.Background(), hosts, "retry")
	if c := f.calls0(); c["Network"] != 1 || rep.Result != ResultOK || f.state() != "+vtb-1:10.1.0.0/24>i-aaa" {
		t.Fatalf("retry: calls %v, result %s %s, tables %q", c, rep.Result, rep.Error, f.state())
	}
}

// failingRoutes fails listing one table, as a cloud does for a table that
// was deleted.
type failingRoutes struct {
	*fakeProvider
	table string
}

func (p failingRoutes) Routes(ctx context.Context, table string) ([]cloud.Route, error) {
	if table == p.table {
		return nil, errors.New("InvalidRouteTableId.NotFound")
	}
	return p.fakeProvider.Routes(ctx, table)
}
