package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/vpcroute/vpcroute/examples/lab"
	"github.com/vpcroute/vpcroute/reconciler/status"
)

// waitFor bounds every wait of the demo: a route to become Available, the
// daemons to agree on a leader, a removed route to go. Each takes one or
// two seconds; a step that needs this long has failed.
const waitFor = 20 * time.Second

// story is steps 5 to 9: the daemons start, a host joins, the leader's
// status, a host leaves. Each check that does not hold is recorded and
// the story goes on, so the result lists everything that failed.
type story struct {
	l      *lab.Lab
	o      options
	failed []string
}

// check records a failed step; it returns cond.
func (s *story) check(cond bool, format string, args ...any) bool {
	if !cond {
		msg := fmt.Sprintf(format, args...)
		s.failed = append(s.failed, msg)
		say("      FAILED: %s", msg)
	}
	return cond
}

// tell runs steps 5 to 9. Only errors that make going on pointless (the
// lab itself broken, Ctrl-C) are returned.
func (s *story) tell(ctx context.Context) error {
	leader, err := s.startDaemons(ctx)
	if err != nil || leader == nil {
		return err // without a leader the rest of the story cannot hold
	}
	joined, err := s.join(ctx)
	if err != nil {
		return err
	}
	if err := s.showStatus(ctx, leader); err != nil {
		return err
	}
	return s.leave(ctx, leader, joined)
}

// startDaemons is step 5: a daemon on every host at once; one leader; every
// route Available; the first ping; the full matrix; the source check.
func (s *story) startDaemons(ctx context.Context) (*lab.Host, error) {
	l := s.l
	a, b := l.Hosts[0], l.Hosts[1]
	say("[5/9] Starting `vpcroute daemon` on every host at the same time. Each daemon reads its Docker bip,")
	say("      enables ip_forward, adds narrow iptables rules, and registers \"bip subnet -> this instance\" in etcd.")
	for _, line := range s.o.cloud.DaemonDuties() {
		say("      %s", line)
	}
	say("      The daemons elect one leader, which writes every registered host's route into the VPC route table.")
	watch, err := l.WatchPing(ctx, a, b.ContainerIP(), 2*waitFor)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	routed := inBackground(ctx, l.Hosts, l.WaitRouted)
	errs := make([]error, len(l.Hosts))
	done := make(chan int, len(l.Hosts))
	for i, h := range l.Hosts {
		go func() { errs[i] = l.StartDaemon(ctx, h); done <- i }()
	}
	for range l.Hosts {
		i := <-done
		h := l.Hosts[i]
		if errs[i] != nil {
			s.check(false, "daemon on %s did not start: %v", h.Name, errs[i])
			continue
		}
		say("      %s: daemon ready (host configured, registered) %s after start", h.Name, since(start))
	}
	leader, err := l.WaitLeader(ctx, waitFor)
	if !s.check(err == nil, "no single leader: %v", err) {
		_ = watch.Stop(ctx)
		return nil, ctx.Err()
	}

	say("      Leader: %s (%s). Every daemon's status names it and no other says it leads (all agreed %s", leader.Name, leader.InstanceID, since(start))
	say("      after start; a follower refreshes its view of the leader every 2s).")
	for _, r := range routed() {
		if s.check(r.err == nil, "%v", r.err) {
			_, _, state := r.h.RouteTarget()
			say("      route %s -> %s %s, kernel route on the VPC router: %s after start", r.h.Subnet, r.h.Target(), state, r.at.Sub(start).Round(10*time.Millisecond))
		}
	}
	if s.o.cloud.SourceDestCheck() {
		s.checkENIs(ctx)
	}
	s.firstPing(ctx, watch, start, "container0 -> container1", "the daemons started")
	say("")
	if err := showTable(ctx, l, "      The route table now:"); err != nil {
		return nil, err
	}
	say("      With the daemons running:")
	if err := s.matrix(ctx, "after the daemons started"); err != nil {
		return nil, err
	}
	peer, perr := l.PeerAddr(ctx, lab.ContainerEndpoint(a), b)
	switch {
	case !s.check(perr == nil, "source check: %v", perr):
	case s.check(peer == a.ContainerIP(), "source check: %s's container sees %s, want %s's container address %s", b.Name, peer, a.Name, a.ContainerIP()):
		say("      Source check: %s's container sees the connection from %s's container coming from %s,", b.Name, a.Name, peer)
		say("      the container's own address, not its host's %s: no NAT inside the cluster.", a.IP)
	}
	say("")
	return leader, nil
}

// checkENIs is part of step 5 on EC2: every host's ENI tagged for the
// cluster, its source/destination check off, read back through the EC2
// API.
func (s *story) checkENIs(ctx context.Context) {
	var ids []string
	for _, h := range s.l.Hosts {
		ids = append(ids, h.ENI)
	}
	enis, err := s.l.ENIs(ctx, ids...)
	if !s.check(err == nil, "reading the ENIs: %v", err) {
		return
	}
	say("      Each host's ENI now, as the EC2 API lists it:")
	for _, h := range s.l.Hosts {
		e := enis[h.ENI]
		say("      %s %s", h.Name, e)
		s.check(!e.SourceDestCheck && e.Tags[lab.TagKey] == lab.ClusterName,
			"%s's ENI: %v, want the check off and the tag %s=%s", h.Name, e, lab.TagKey, lab.ClusterName)
	}
}

// join is step 6: a new host joins and starts its daemon; nothing is done
// on any other host.
func (s *story) join(ctx context.Context) (*lab.Host, error) {
	l := s.l
	say("[6/9] A new host joins: a new instance in the cloud, its own dockerd and container.")
	start := time.Now()
	n, err := l.AddHost(ctx)
	if err != nil {
		return nil, err
	}
	printAllocations([]*lab.Host{n})
	say("      %s %s, instance %s, bip %s, container %s: up in %s. Only its own daemon is started;", n.Name, n.IP, n.InstanceID, n.Bip, n.ContainerIP(), since(start))
	say("      no other host is touched.")
	watch, err := l.WatchPing(ctx, l.Hosts[0], n.ContainerIP(), 2*waitFor)
	if err != nil {
		return nil, err
	}
	start = time.Now()
	if err := l.StartDaemon(ctx, n); s.check(err == nil, "daemon on %s did not start: %v", n.Name, err) {
		say("      %s: daemon ready %s after start", n.Name, since(start))
	}
	at, err := l.WaitRouted(ctx, n, waitFor)
	if s.check(err == nil, "%v", err) {
		_, _, state := n.RouteTarget()
		say("      The leader saw it register and wrote %s -> %s: %s %s after %s's daemon started.", n.Subnet, n.Target(), state, at.Sub(start).Round(10*time.Millisecond), n.Name)
	}
	s.firstPing(ctx, watch, start, fmt.Sprintf("container0 -> %s's container", n.Name), n.Name+"'s daemon started")
	say("      Every host now (%d containers, each to the %d others):", len(l.Hosts), len(l.Hosts)-1)
	if err := s.matrix(ctx, "after "+n.Name+" joined"); err != nil {
		return nil, err
	}
	say("")
	return n, nil
}

// showStatus is step 7: what an operator sees on the leader.
func (s *story) showStatus(ctx context.Context, leader *lab.Host) error {
	say("[7/9] `vpcroute status` on the leader, %s (it reads the daemon's /status on %s):", leader.Name, lab.DaemonStatusAddr)
	out, err := s.l.StatusText(ctx, leader)
	if !s.check(err == nil, "vpcroute status on %s: %v", leader.Name, err) {
		return ctx.Err()
	}
	printIndented(out)
	// No host has left yet: a held delete can only be a route the leader
	// wrongly takes for the cluster's, which it would delete if it could.
	if doc, err := s.l.Status(ctx, leader); s.check(err == nil, "status of %s: %v", leader.Name, err) && doc.Reconcile != nil {
		var held []string
		for _, h := range doc.Reconcile.Held {
			held = append(held, fmt.Sprintf("%s -> %s (%s)", h.Route.Destination, h.Route.Target, h.Reason))
		}
		s.check(len(held) == 0, "the leader holds deletes of routes no host has given up, i.e. routes it does not own: %s", strings.Join(held, "; "))
	}
	say("")
	return nil
}

// leave is step 8: a host that is not the leader is decommissioned; its
// route goes and the others keep working.
func (s *story) leave(ctx context.Context, leader, joined *lab.Host) error {
	l := s.l
	var h *lab.Host
	for _, c := range l.Hosts {
		if c != leader && c != joined {
			h = c
			break
		}
	}
	if h == nil {
		h = joined
	}
	say("[8/9] %s (%s) is decommissioned: its daemon stops (SIGTERM keeps routes), `vpcroute sync --remove` removes", h.Name, instanceLabel(h))
	say("      its record from etcd and its route, the cloud releases the instance, the host is gone.")
	start := time.Now()
	gone := inBackground(ctx, []*lab.Host{h}, l.WaitRouteGone)
	err := l.RemoveHost(ctx, h)
	if !s.check(err == nil, "removing %s: %v", h.Name, err) {
		return ctx.Err()
	}
	say("      %s removed in %s (daemon stop, sync --remove, instance release, dockerd stop, namespace gone).", h.Name, since(start))
	if r := gone()[0]; s.check(r.err == nil, "%v", r.err) {
		say("      %s -> %s was gone from the route table and the VPC router %s after removal began.", h.Subnet, h.Target(), r.at.Sub(start).Round(10*time.Millisecond))
	}
	var doc status.Document
	err = poll(ctx, waitFor, func() bool {
		var e error
		doc, e = l.Status(ctx, leader)
		return e == nil && len(doc.Hosts) == len(l.Hosts) && !registered(doc, h.InstanceID)
	})
	if s.check(err == nil, "the leader still lists %s, or not every remaining host: %v", h.InstanceID, registeredIDs(doc)) {
		say("      The leader now lists %d registered hosts: %s.", len(doc.Hosts), strings.Join(registeredIDs(doc), ", "))
	}
	if err := showTable(ctx, l, "      The route table now:"); err != nil {
		return err
	}
	say("      The remaining hosts:")
	if err := s.matrix(ctx, "after "+h.Name+" left"); err != nil {
		return err
	}
	return nil
}

// result is step 9.
func (s *story) result(total time.Duration) bool {
	say("")
	say("[9/9] Result (the whole demo took %s):", total.Round(100*time.Millisecond))
	if len(s.failed) == 0 {
		say("RESULT: PASS - the daemons elected one leader and made every container reach every other across hosts,")
		say("        with its own source address; a joining host became reachable in seconds without touching the")
		say("        others; a leaving host's route went while every remaining pair kept working.")
		return true
	}
	say("RESULT: FAIL - %d step(s) did not hold:", len(s.failed))
	for _, f := range s.failed {
		say("        - %s", f)
	}
	return false
}

// matrix measures and prints the matrix; every cell must be reachable.
func (s *story) matrix(ctx context.Context, stage string) error {
	m, err := s.l.Matrix(ctx)
	if err != nil {
		return err
	}
	printIndented(m.String())
	ok, total := m.CrossHost()
	if s.check(m.Full(), "%s: the matrix is not full (%d of %d cross-host paths work)", stage, ok, total) {
		say("      %d of %d cross-host paths work.", ok, total)
	}
	return nil
}

// firstPing reports when the ping watch got its first reply, and stops it.
func (s *story) firstPing(ctx context.Context, w *lab.PingWatch, start time.Time, what, event string) {
	select {
	case t := <-w.First:
		say("      First ping %s answered %s after %s.", what, t.Sub(start).Round(10*time.Millisecond), event)
	case <-time.After(10 * time.Second):
		s.check(false, "no ping %s answered within 10s after the route was Available", what)
	case <-ctx.Done():
	}
	if err := w.Stop(ctx); err != nil {
		say("      (stopping the ping watch: %v)", err)
	}
}

// poll calls ok every 200ms until it holds, ctx ends or timeout passes.
func poll(ctx context.Context, timeout time.Duration, ok func() bool) error {
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %s", timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return nil
}

func registered(doc status.Document, instance string) bool {
	for _, h := range doc.Hosts {
		if h.Instance == instance {
			return true
		}
	}
	return false
}

func registeredIDs(doc status.Document) []string {
	var out []string
	for _, h := range doc.Hosts {
		out = append(out, h.Instance)
	}
	return out
}

// timed is when a wait for one host ended, or why it failed.
type timed struct {
	h   *lab.Host
	at  time.Time
	err error
}

// inBackground starts wait for every host now and returns a function that
// waits for all of them and returns the results in host order. Timing
// each host from the same start, in parallel, reports when each thing
// happened, not when a sequential loop got round to looking.
func inBackground(ctx context.Context, hosts []*lab.Host, wait func(context.Context, *lab.Host, time.Duration) (time.Time, error)) func() []timed {
	res := make([]timed, len(hosts))
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			at, err := wait(ctx, h, waitFor)
			res[i] = timed{h: h, at: at, err: err}
		}()
	}
	return func() []timed {
		wg.Wait()
		return res
	}
}
