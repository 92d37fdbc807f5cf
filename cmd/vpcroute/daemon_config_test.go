package main

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/vpcroute/vpcroute/internal/daemon"
	"github.com/vpcroute/vpcroute/reconciler"
)

// daemonConfigOf parses the daemon's flags and returns its Config.
func daemonConfigOf(t *testing.T, args ...string) (daemon.Config, error) {
	t.Helper()
	o, shared := newOptions()
	if err := newDaemonCommand(o, shared).ParseFlags(args); err != nil {
		t.Fatal(err)
	}
	return o.daemonConfig()
}

// TestDaemonConfigFromFlags: every setting the daemon reads reaches its
// Config from its flag; a Config field nobody fills is caught here.
func TestDaemonConfigFromFlags(t *testing.T) {
	cfg, err := daemonConfigOf(t, "--cluster-cidr", "10.0.0.0/8", "--cluster-name", "lab", "--vpc-cidr", "192.168.0.0/16",
		"--subnet", "10.0.1.0/24", "--docker-host", "unix:///tmp/d.sock", "--network", "app", "--host-config=true",
		"--forward-policy", "accept", "--proc-sys", "/tmp/sys", "--state-dir", "/tmp/state", "--cache-dir", "/tmp/cache", "--docker-config", "/tmp/daemon.json",
		"--policy", "upsert-only", "--allow-carve-out", "--allow-mass-delete", "--resync-interval", "61s",
		"--debounce", "2s", "--silent-after", "5m", "--host-check-interval", "31s", "--heartbeat-interval", "29s",
		"--lease-ttl", "11s", "--stuck-after", "reconciler=10m", "--timeout", "7m", "--status-addr", "127.0.0.1:9",
		"--etcd-endpoints", "http://127.0.0.1:2379")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"Cluster": "lab", "ClusterCIDR": "10.0.0.0/8", "VPCCIDRs": "[192.168.0.0/16]", "Subnets": "[10.0.1.0/24]",
		"DockerHost": "unix:///tmp/d.sock", "Networks": "[app]", "HostConfig": "true",
		"Host": "{lab [] 10.0.0.0/8 [] true /tmp/sys /tmp/state}", "CacheDir": "/tmp/cache", "DockerConfig": "/tmp/daemon.json",
		"AllowCarveOut": "true", "AllowMassDelete": "true", "Resync": "1m1s", "Debounce": "2s", "SilentAfter": "5m0s",
		"HostCheck": "31s", "Heartbeat": "29s", "LeaseTTL": "11s", "StuckAfter": "map[reconciler:10m0s]", "Timeout": "7m0s",
		"StatusAddr": "127.0.0.1:9", "Version": version,
	}
	v := reflect.ValueOf(cfg)
	for i := range v.NumField() {
		name, f := v.Type().Field(i).Name, v.Field(i)
		switch name {
		case "Log":
			continue // the caller's
		case "Registry":
			if got := strings.Join(cfg.Registry.Endpoints, ","); got != "http://127.0.0.1:2379" || cfg.Registry.Cluster != "lab" {
				t.Errorf("Registry = endpoints %q, cluster %q", got, cfg.Registry.Cluster)
			}
			continue
		case "NewProvider":
			if f.IsNil() {
				t.Error("NewProvider is nil")
			}
			continue
		case "Policy":
			if cfg.Policy != reconciler.PolicyUpsertOnly {
				t.Errorf("Policy = %#v; want upsert-only", cfg.Policy)
			}
			continue
		}
		w, ok := want[name]
		if !ok {
			t.Errorf("Config.%s is not checked here: add its flag and value to this test", name)
			continue
		}
		if got := fmt.Sprint(f.Interface()); got != w {
			t.Errorf("Config.%s = %s; want %s", name, got, w)
		}
	}
}

// TestDaemonProviderRefusalIsBadInput: a setting the provider refuses is a
// daemon.ConfigError, which the daemon does not retry (exit 2), not a cloud
// that has not answered yet.
func TestDaemonProviderRefusalIsBadInput(t *testing.T) {
	cfg, err := daemonConfigOf(t, "--cluster-cidr", "10.0.0.0/8", "--route-table", "rt-1")
	if err != nil {
		t.Fatal(err)
	}
	_, err = cfg.NewProvider(context.Background(), zap.NewNop(), nil)
	var bad daemon.ConfigError
	if !errors.As(err, &bad) || !strings.Contains(err.Error(), `route-table "rt-1" is invalid`) {
		t.Errorf("NewProvider with a refused setting: %v (%T); want a daemon.ConfigError naming route-table", err, err)
	}
}
