package daemon

import (
	"reflect"
	"testing"
	"time"
)

func TestParseStuckAfter(t *testing.T) {
	got, err := ParseStuckAfter([]string{"reconciler=10m", " election = 90s", "registry=1m", "agent=2m", "reconciler=5m"})
	want := map[string]time.Duration{LoopReconciler: 5 * time.Minute, LoopElection: 90 * time.Second,
		LoopRegistry: time.Minute, LoopAgent: 2 * time.Minute}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("ParseStuckAfter = %v, %v; want %v (the last of a loop wins)", got, err, want)
	}
	for in, msg := range map[string]string{
		"reconciler":      `stuck-after "reconciler" is invalid: expected loop=duration with loop one of agent, election, reconciler, registry, e.g. reconciler=10m`,
		"watch=1m":        `stuck-after "watch=1m" is invalid: expected loop=duration with loop one of agent, election, reconciler, registry, e.g. reconciler=10m`,
		"reconciler=soon": `stuck-after "reconciler=soon" is invalid: expected a positive duration for reconciler, e.g. reconciler=10m`,
		"election=0s":     `stuck-after "election=0s" is invalid: expected a positive duration for election, e.g. election=10m`,
		"agent=-1m":       `stuck-after "agent=-1m" is invalid: expected a positive duration for agent, e.g. agent=10m`,
	} {
		if _, err := ParseStuckAfter([]string{in}); err == nil || err.Error() != msg {
			t.Errorf("ParseStuckAfter(%q) = %v\nwant %s", in, err, msg)
		}
	}
}

func TestLoopAllowances(t *testing.T) {
	defaults := Config{Resync: time.Minute, HostCheck: 30 * time.Second, Heartbeat: 30 * time.Second}
	fast := Config{Resync: 3 * time.Second, HostCheck: 30 * time.Second, Heartbeat: time.Second}
	tests := []struct {
		name            string
		cfg             Config
		overrides       map[string]time.Duration
		campaign, watch time.Duration
		want            map[string]time.Duration
		err             string
	}{
		// The registry's bounds with its defaults and a 10 s lease.
		{name: "defaults", cfg: defaults, campaign: 30 * time.Second, watch: 25 * time.Second, want: map[string]time.Duration{
			LoopAgent: 90 * time.Second, LoopReconciler: 3 * time.Minute, LoopElection: time.Minute, LoopRegistry: 90 * time.Second}},
		{name: "short intervals keep the floors", cfg: fast, campaign: 16 * time.Second, watch: 25 * time.Second, want: map[string]time.Duration{
			LoopAgent: 90 * time.Second, LoopReconciler: time.Minute, LoopElection: 32 * time.Second, LoopRegistry: 50 * time.Second}},
		{name: "a long resync, self mode", cfg: Config{Resync: 10 * time.Minute, HostCheck: time.Second, Heartbeat: time.Second},
			want: map[string]time.Duration{LoopAgent: time.Minute, LoopReconciler: 30 * time.Minute, LoopElection: 0, LoopRegistry: 3 * time.Second}},
		{name: "overrides win", cfg: defaults, overrides: map[string]time.Duration{LoopReconciler: 61 * time.Second, LoopElection: 31 * time.Second},
			campaign: 30 * time.Second, watch: 25 * time.Second, want: map[string]time.Duration{
				LoopAgent: 90 * time.Second, LoopReconciler: 61 * time.Second, LoopElection: 31 * time.Second, LoopRegistry: 90 * time.Second}},
		{name: "reconciler within a resync", cfg: defaults, overrides: map[string]time.Duration{LoopReconciler: time.Minute},
			err: "stuck-after reconciler=1m0s is invalid: expected more than 1m0s, the longest the reconciler loop goes without progress when idle (resync-interval)"},
		{name: "agent within its tickers", cfg: fast, overrides: map[string]time.Duration{LoopAgent: time.Second},
			err: "stuck-after agent=1s is invalid: expected more than 1s, the longest the agent loop goes without progress when idle (host-check-interval or heartbeat-interval)"},
		{name: "registry within its progress checks", cfg: defaults, watch: 25 * time.Second, overrides: map[string]time.Duration{LoopRegistry: 20 * time.Second},
			err: "stuck-after registry=20s is invalid: expected more than 25s, the longest the registry loop goes without progress when idle (the etcd watch's progress checks)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.StuckAfter = tt.overrides
			got, err := cfg.loopAllowances(tt.campaign, tt.watch)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Errorf("loopAllowances error %v\nwant %s", err, tt.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("loopAllowances = %v, %v\nwant %v", got, err, tt.want)
			}
		})
	}
}
