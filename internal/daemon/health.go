package daemon

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/vpcroute/vpcroute/reconciler/registry"
)

// The daemon's loops, as /healthz, /status and --stuck-after name them.
const (
	LoopAgent      = "agent"
	LoopElection   = "election"
	LoopReconciler = "reconciler"
	LoopRegistry   = "registry"
)

var loopNames = []string{LoopAgent, LoopElection, LoopReconciler, LoopRegistry}

// LoopNames returns the loops --stuck-after may name, sorted.
func LoopNames() []string { return slices.Clone(loopNames) }

// minAllowance is the least a loop doing cloud or Docker calls is allowed
// between two beats: one cloud call attempt may take 20 s and the backoff
// before the next up to 8 s, a Docker discovery 10 s, a publish 5 s.
const minAllowance = time.Minute

// ParseStuckAfter reads the --stuck-after entries, "loop=duration" each.
func ParseStuckAfter(entries []string) (map[string]time.Duration, error) {
	out := map[string]time.Duration{}
	for _, e := range entries {
		name, value, ok := strings.Cut(e, "=")
		name = strings.TrimSpace(name)
		if !ok || !slices.Contains(loopNames, name) {
			return nil, fmt.Errorf("stuck-after %q is invalid: expected loop=duration with loop one of %s, e.g. reconciler=10m",
				e, strings.Join(loopNames, ", "))
		}
		d, err := time.ParseDuration(strings.TrimSpace(value))
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("stuck-after %q is invalid: expected a positive duration for %s, e.g. %s=10m", e, name, name)
		}
		out[name] = d
	}
	return out, nil
}

// loopAllowances is how long each loop may go without progress before it
// counts as stuck: the overrides, else a few times the interval at which
// the loop turns anyway, never less than what one step legitimately
// takes. Every loop also beats inside long operations (each cloud call
// attempt, batch and poll; each etcd answer), so a pass that writes a
// thousand routes for minutes under EC2's rate limit stays well inside.
// campaign and watch are the registry's own bounds (MaxCampaignSilence,
// MaxWatchSilence); zero in self mode. An override (StuckAfter) no longer
// than the loop's quiet turn would call a healthy idle loop stuck: it is
// refused.
func (c Config) loopAllowances(campaign, watch time.Duration) (map[string]time.Duration, error) {
	overrides := c.StuckAfter
	quiet := map[string]struct {
		d   time.Duration
		why string
	}{
		LoopAgent:      {min(c.HostCheck, c.Heartbeat), "host-check-interval or heartbeat-interval"},
		LoopReconciler: {c.Resync, "resync-interval"},
		LoopElection:   {campaign, "from lease-ttl and the etcd request timeout"},
		LoopRegistry:   {watch, "the etcd watch's progress checks"},
	}
	for _, name := range slices.Sorted(maps.Keys(overrides)) {
		if q := quiet[name]; overrides[name] <= q.d {
			return nil, fmt.Errorf("stuck-after %s=%s is invalid: expected more than %s, the longest the %s loop goes without progress when idle (%s)",
				name, overrides[name], q.d, name, q.why)
		}
	}
	a := map[string]time.Duration{
		// The agent turns every host-check and heartbeat interval.
		LoopAgent: max(3*max(c.HostCheck, c.Heartbeat), minAllowance),
		// Idle, the reconciler turns every resync; passing, it beats at
		// every call attempt, batch, poll and table.
		LoopReconciler: max(3*c.Resync, minAllowance),
		LoopElection:   2 * campaign,
		LoopRegistry:   max(3*c.Heartbeat, 2*watch),
	}
	maps.Copy(a, overrides)
	return a, nil
}

// beater returns the progress hook of a loop.
func (d *daemon) beater(loop string) func() {
	return func() { d.beat.Beat(loop) }
}

// resignWhenStuck gives up the leadership l when the reconcile loop makes
// no progress for longer than its allowance, so that another host leads
// while this one is stuck (its /healthz fails and systemd's watchdog is no
// longer petted, so systemd restarts it). It returns when ctx ends or
// after resigning.
func (d *daemon) resignWhenStuck(ctx context.Context, l *registry.Leadership) {
	allowed := d.allow[LoopReconciler]
	t := time.NewTicker(min(max(allowed/20, 10*time.Millisecond), time.Second))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		since, stuck := d.beat.Stuck(LoopReconciler)
		if !stuck {
			continue
		}
		d.log.Error("reconcile loop stuck; resigning leadership so that another host can lead",
			zap.Time("lastProgress", since), zap.Duration("allowed", allowed))
		d.errs.Add("reconciler", fmt.Errorf("reconcile loop stuck: no progress since %s (allowed %s); resigned leadership",
			since.UTC().Format(time.RFC3339), allowed))
		d.endTerm(l.Context())
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
		if err := l.Resign(rctx); err != nil {
			d.log.Warn("resign failed; the lease expires on its own", zap.Error(err))
		}
		cancel()
		return
	}
}

// endTerm stops feeding the loop and stops saying this daemon leads, if
// term is still the current leadership term.
func (d *daemon) endTerm(term context.Context) {
	d.mu.Lock()
	current := d.term == term
	if current {
		d.feed, d.isLeader, d.term = nil, false, nil
	}
	d.mu.Unlock()
	if current {
		d.metrics.SetLeader(false)
	}
}
