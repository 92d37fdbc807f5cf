package lab_test

import (
	"context"
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/examples/lab"
)

// TestLabChecksManual proves the lab's own checks on a separate lab without
// vpcroute, using the manual steps of lab.md: the matrix must see the
// broken data path as broken, and the source-IP check must catch Docker's
// MASQUERADE (reachable, but the receiver sees the host's address) before it
// accepts the container's own address. A check that cannot fail proves
// nothing.
func TestLabChecksManual(t *testing.T) {
	needRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	l, err := lab.Up(ctx, lab.Config{Hosts: 2, Prefix: "vrm", Logger: testLogger()})
	if err != nil {
		t.Fatalf("lab up: %v", err)
	}
	defer func() {
		if err := l.Close(); err != nil {
			t.Errorf("lab close: %v", err)
		}
		if left := lab.Leftovers("/tmp", l.ID); len(left) > 0 {
			t.Errorf("leftovers after close: %v", left)
		}
	}()
	a, b := l.Hosts[0], l.Hosts[1]
	sameHostOnly := func(from, to lab.Endpoint) bool { return from.Host == to.Host }
	crossAll := func(from, to lab.Endpoint) bool { return true }

	expectMatrix(ctx, t, l, "no routes", sameHostOnly)

	if err := l.ApplyManual(ctx, lab.ManualRoutes); err != nil {
		t.Fatal(err)
	}
	// Docker's FORWARD policy DROP still eats the packets.
	expectMatrix(ctx, t, l, "routes only", sameHostOnly)

	if err := l.ApplyManual(ctx, lab.ManualForward); err != nil {
		t.Fatal(err)
	}
	// Forwarding from the VPC CIDR is accepted, so masqueraded container
	// traffic gets through: reachable, but from the host's address.
	expectMatrix(ctx, t, l, "routes and forward", crossAll)
	got, err := l.PeerAddr(ctx, lab.ContainerEndpoint(a), b)
	if err != nil {
		t.Fatalf("source check with masquerade: %v", err)
	}
	if got != a.IP {
		t.Errorf("with Docker's MASQUERADE the receiver saw %s, want host0's address %s: the source check cannot see masquerade", got, a.IP)
	}

	if err := l.ApplyManual(ctx, lab.ManualNATExempt); err != nil {
		t.Fatal(err)
	}
	expectMatrix(ctx, t, l, "routes, forward and NAT exemption", crossAll)
	for _, pair := range [][2]*lab.Host{{a, b}, {b, a}} {
		got, err := l.PeerAddr(ctx, lab.ContainerEndpoint(pair[0]), pair[1])
		if err != nil {
			t.Fatalf("source check: %v", err)
		}
		if got != pair[0].ContainerIP() {
			t.Errorf("%s's container saw %s as source, want %s's container %s", pair[1].Name, got, pair[0].Name, pair[0].ContainerIP())
		}
	}
}
