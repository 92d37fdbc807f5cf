package lab

import (
	"slices"
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/reconciler/status"
)

// TestDaemonConfigArgs: zero fields take the lab's demo timings, set
// fields are kept, and every timing reaches the daemon as its flag.
func TestDaemonConfigArgs(t *testing.T) {
	got := DaemonConfig{HostCheckInterval: 2 * time.Second}.withDefaults().args()
	want := []string{
		"--debounce", "300ms",
		"--heartbeat-interval", "2s",
		"--silent-after", "6s",
		"--resync-interval", "10s",
		"--lease-ttl", "4s",
		"--host-check-interval", "2s",
	}
	if !slices.Equal(got, want) {
		t.Errorf("args = %q, want %q", got, want)
	}
}

// TestDaemonReady: a daemon is ready once its host config is applied and
// ok and, with etcd, its host is back from the registry in cluster mode.
func TestDaemonReady(t *testing.T) {
	ready := status.Document{Mode: status.ModeCluster}
	ready.Host.HostConfig.State = status.HostConfigOK
	ready.Host.Registered = true
	tests := []struct {
		name    string
		edit    func(*status.Document)
		cluster bool
		want    string // "" when ready
	}{
		{"ready", func(*status.Document) {}, true, ""},
		{"not applied", func(d *status.Document) { d.Host.HostConfig.State = "" }, true, "host config not applied yet"},
		{"apply failed", func(d *status.Document) {
			d.Host.HostConfig.State, d.Host.HostConfig.Error = status.HostConfigError, "iptables: exit status 4"
		}, true, "host config error: iptables: exit status 4"},
		{"self mode when etcd runs", func(d *status.Document) { d.Mode = status.ModeSelf }, true, `mode "self", want "cluster"`},
		{"self mode without etcd", func(d *status.Document) { d.Mode = status.ModeSelf }, false, ""},
		{"not registered", func(d *status.Document) { d.Host.Registered = false }, true, "host not registered yet"},
	}
	for _, tc := range tests {
		d := ready
		tc.edit(&d)
		if got := DaemonReady(d, tc.cluster); got != tc.want {
			t.Errorf("%s: DaemonReady = %q, want %q", tc.name, got, tc.want)
		}
	}
}
