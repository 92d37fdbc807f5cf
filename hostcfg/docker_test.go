package hostcfg

import (
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	"github.com/vpcroute/vpcroute/hostcfg/testns"
)

// envDockerHost passes the daemon's address to the child that runs the
// apply/cleanup subtest inside the daemon's namespace.
const envDockerHost = "VPCROUTE_TEST_DOCKER_HOST"

// TestDocker starts one real dockerd (--bip 10.0.0.1/24) in its own
// network namespace and runs every Docker test against it: discovery from
// the test process (the socket is a file, reachable from any namespace),
// then Apply and Cleanup in a child inside the daemon's namespace, next to
// the rules dockerd wrote.
func TestDocker(t *testing.T) {
	if testns.InChild() {
		t.Run("apply_cleanup", dockerApplyCleanup)
		return
	}
	ns := testns.New(t, "vrhd")
	start := time.Now()
	d := testns.NewDockerd(t, ns, testns.DockerdConfig{Bip: "10.0.0.1/24"})
	t.Logf("dockerd ready in %s at %s", time.Since(start).Round(time.Millisecond), d.Host)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	cli, err := client.NewClientWithOpts(client.WithHost(d.Host), client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cli.Close() }() // test client
	created, err := cli.NetworkCreate(ctx, "vr-n1", network.CreateOptions{
		Driver: "bridge",
		IPAM:   &network.IPAM{Config: []network.IPAMConfig{{Subnet: "10.9.0.0/24"}}},
	})
	if err != nil {
		t.Fatalf("create network: %v", err)
	}

	t.Run("network_changes", func(t *testing.T) {
		dk, err := NewDocker(d.Host)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = dk.Close() }() // test client
		wctx, stop := context.WithCancel(ctx)
		notices, errc := dk.NetworkChanges(wctx)
		// The stream is open once the daemon answers; a create before
		// that could be missed, so create until a notice arrives.
		var got bool
		for i := 0; i < 20 && !got; i++ {
			name := "vr-ev" + string(rune('a'+i))
			if _, err := cli.NetworkCreate(ctx, name, network.CreateOptions{Driver: "bridge"}); err != nil {
				t.Fatalf("create network: %v", err)
			}
			if err := cli.NetworkRemove(ctx, name); err != nil {
				t.Fatalf("remove network: %v", err)
			}
			select {
			case <-notices:
				got = true
			case err := <-errc:
				t.Fatalf("event stream ended: %v", err)
			case <-time.After(500 * time.Millisecond):
			}
		}
		if !got {
			t.Fatal("no notice for network create/destroy")
		}
		stop()
		for range notices {
		}
		if err, open := <-errc; open || err != nil {
			t.Errorf("after cancel: error %v, channel open %v; want closed, no error", err, open)
		}
	})
	t.Run("bip", func(t *testing.T) {
		got, err := DiscoverSubnets(ctx, d.Host, nil)
		if err != nil || prefixesString(got) != "10.0.0.0/24" {
			t.Fatalf("DiscoverSubnets = %v, %v; want the bip subnet 10.0.0.0/24", got, err)
		}
	})
	t.Run("named_network", func(t *testing.T) {
		got, err := DiscoverSubnets(ctx, d.Host, []string{"vr-n1"})
		if err != nil || prefixesString(got) != "10.0.0.0/24 10.9.0.0/24" {
			t.Fatalf("DiscoverSubnets(vr-n1) = %v, %v", got, err)
		}
		got, err = DiscoverSubnets(ctx, d.Host, []string{created.ID, "bridge"})
		if err != nil || prefixesString(got) != "10.0.0.0/24 10.9.0.0/24" {
			t.Fatalf("DiscoverSubnets(full ID, bridge) = %v, %v", got, err)
		}
	})
	t.Run("from_environment", func(t *testing.T) {
		t.Setenv("DOCKER_HOST", d.Host)
		got, err := DiscoverSubnets(ctx, "", nil)
		if err != nil || prefixesString(got) != "10.0.0.0/24" {
			t.Fatalf("DiscoverSubnets with DOCKER_HOST = %v, %v", got, err)
		}
	})
	t.Run("errors", func(t *testing.T) {
		missing := "unix:///tmp/vr-no-such-dir/d.sock"
		// A socket file nobody listens on.
		deadSock := filepath.Join(t.TempDir(), "dead.sock")
		l, err := net.Listen("unix", deadSock)
		if err != nil {
			t.Fatal(err)
		}
		l.(*net.UnixListener).SetUnlinkOnClose(false)
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			name, host string
			networks   []string
			want       string
		}{
			{"unknown network", d.Host, []string{"nope"}, `docker network "nope" not found at ` + d.Host + `; expected an existing bridge network`},
			{"ID prefix is not a name", d.Host, []string{created.ID[:6]}, `docker network "` + created.ID[:6] + `" not found at ` + d.Host + ` (the name only prefixes the ID of network "vr-n1")`},
			{"host network", d.Host, []string{"host"}, `docker network "host" uses driver "host"; expected a bridge network`},
			{"none network", d.Host, []string{"none"}, `docker network "none" uses driver "null"; expected a bridge network`},
			{"empty name", d.Host, []string{""}, `docker network name is empty`},
			{"no socket", missing, nil, "docker at " + missing + " is unreachable: dial unix /tmp/vr-no-such-dir/d.sock: connect: no such file or directory"},
			{"dead socket", "unix://" + deadSock, nil, "docker at unix://" + deadSock + " is unreachable: dial unix " + deadSock + ": connect: connection refused"},
			// Refused before any connection attempt.
			{"bad scheme", "ftp://x", nil, `docker host "ftp://x" is invalid; expected unix:///path/to/docker.sock or tcp://host:port`},
			{"unix without path", "unix://", nil, `docker host "unix://" is invalid`},
		} {
			got, err := DiscoverSubnets(ctx, tt.host, tt.networks)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s: DiscoverSubnets = %v, %v; want an error containing %q", tt.name, got, err, tt.want)
			} else if strings.Contains(err.Error(), "\n") {
				t.Errorf("%s: error spans lines: %q", tt.name, err)
			}
		}
	})
	t.Run("apply_cleanup", func(t *testing.T) {
		t.Setenv(envDockerHost, d.Host)
		ns.RunTest(t)
	})
}

// dockerApplyCleanup runs inside the dockerd's namespace: Apply next to
// Docker's real rules, Apply again, Docker adding a network, Cleanup; after
// Cleanup iptables-save must be exactly what dockerd alone produced.
func dockerApplyCleanup(t *testing.T) {
	testns.CheckChild(t)
	ctx := context.Background()
	host := os.Getenv(envDockerHost)
	subnets, err := DiscoverSubnets(ctx, host, []string{"vr-n1"})
	if err != nil {
		t.Fatal(err)
	}
	dockerAlone := save(t)
	if !strings.Contains(dockerAlone, "-A POSTROUTING -s 10.0.0.0/24 ! -o docker0 -j MASQUERADE") || !strings.Contains(dockerAlone, ":FORWARD DROP") {
		t.Fatalf("dockerd's rules are not there:\n%s", dockerAlone)
	}
	o := netnsOptions(t)
	o.Subnets = subnets
	mustApply(t, o)
	got := save(t)
	for _, want := range []string{
		// Our jump first in DOCKER-USER, ahead of Docker's RETURN.
		"-A DOCKER-USER -m comment --comment \"vpcroute:default\" -j VPCROUTE-FORWARD\n-A DOCKER-USER -j RETURN\n",
		// Our jump first in POSTROUTING, ahead of Docker's MASQUERADEs.
		":DOCKER - [0:0]\n:VPCROUTE-POSTROUTING - [0:0]\n-A PREROUTING",
		"-A POSTROUTING -m comment --comment \"vpcroute:default\" -j VPCROUTE-POSTROUTING\n-A POSTROUTING -s 10.9.0.0/24",
		"-A VPCROUTE-FORWARD -s 10.0.0.0/8 -d 10.9.0.0/24 -m comment --comment \"vpcroute:default\" -j ACCEPT\n",
		"-A VPCROUTE-POSTROUTING -s 10.0.0.0/24 -d 10.0.0.0/8 -m comment --comment \"vpcroute:default\" -j ACCEPT\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("after Apply, missing\n%s\nin\n%s", want, got)
		}
	}
	if strings.Contains(got, "\"vpcroute:default\" -j DOCKER-USER") {
		t.Error("vpcroute added a FORWARD jump to DOCKER-USER although Docker has one")
	}
	if w := withoutOwned(got, o.Cluster); w != dockerAlone {
		t.Errorf("Apply changed Docker's rules; without vpcroute's:\n%s\nwant:\n%s", w, dockerAlone)
	}
	applyAgainUnchanged(t, o)

	// Docker creates a network after Apply: its MASQUERADE goes on top of
	// POSTROUTING; the next Apply must put the exemption back in front.
	cli, err := client.NewClientWithOpts(client.WithHost(host), client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cli.Close() }() // test client
	if _, err := cli.NetworkCreate(ctx, "vr-n2", network.CreateOptions{
		Driver: "bridge",
		IPAM:   &network.IPAM{Config: []network.IPAMConfig{{Subnet: "10.8.0.0/24"}}},
	}); err != nil {
		t.Fatalf("create network: %v", err)
	}
	st, err := Inspect(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if st.NATJumpPosition == 1 {
		t.Fatalf("Docker's new network did not push the jump down (is the test still meaningful?):\n%s", save(t))
	}
	o.Subnets = append(o.Subnets, netip.MustParsePrefix("10.8.0.0/24"))
	mustApply(t, o)
	if st, err := Inspect(ctx, o); err != nil || st.NATJumpPosition != 1 || len(st.Drift) != 0 {
		t.Fatalf("after Apply: %+v, %v; want the jump at 1 and no drift", st, err)
	}
	applyAgainUnchanged(t, o)
	if err := cli.NetworkRemove(ctx, "vr-n2"); err != nil {
		t.Fatalf("remove network: %v", err)
	}
	o.Subnets = o.Subnets[:len(o.Subnets)-1]
	mustApply(t, o)
	if got := save(t); strings.Contains(got, "10.8.0.0/24") {
		t.Errorf("rules for the removed network's subnet left:\n%s", got)
	} else if w := withoutOwned(got, o.Cluster); w != dockerAlone {
		t.Errorf("after the network came and went, Docker's rules differ:\n%s\nwant:\n%s", w, dockerAlone)
	}

	// The blunt option on top of Docker's DROP, then everything undone.
	o.ForwardPolicyAccept = true
	mustApply(t, o)
	if !strings.Contains(save(t), ":FORWARD ACCEPT") {
		t.Error("FORWARD policy not ACCEPT")
	}
	mustCleanup(t, o)
	if got := save(t); got != dockerAlone {
		t.Errorf("after Cleanup iptables-save is not what dockerd alone produced:\n%s\nwant:\n%s", got, dockerAlone)
	}
	if res := mustCleanup(t, o); res.Changed() {
		t.Errorf("second Cleanup changed %v", res.Changes)
	}
}
