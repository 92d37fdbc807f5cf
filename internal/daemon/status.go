package daemon

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vpcroute/vpcroute/reconciler"
	"github.com/vpcroute/vpcroute/reconciler/registry"
	"github.com/vpcroute/vpcroute/reconciler/status"
)

// leaderCacheFor bounds how often /status asks etcd who leads and what the
// leader's last pass was.
const leaderCacheFor = 2 * time.Second

// document builds /status from what the daemon's parts know.
func (d *daemon) document() status.Document {
	s := d.agent.snapshot()
	d.refreshFromRegistry()
	d.mu.Lock()
	defer d.mu.Unlock()
	doc := status.Document{
		SchemaVersion: status.SchemaVersion, Generated: time.Now().UTC(), Version: d.cfg.Version,
		Cluster: d.cfg.Cluster, Mode: d.mode(),
		Host: status.HostStatus{
			Instance: d.self.ID, Target: d.self.Target, PrivateIP: d.self.PrivateIP, Subnets: s.subnets,
			HostConfig: status.HostConfigStatus{State: s.hostConfig, LastApplied: s.lastApplied,
				LastChange: s.lastChange, Error: s.hostErr},
			BIPMismatch: s.bipMismatch,
		},
		Hosts:        d.hosts,
		Reconcile:    d.report,
		LastSuccess:  d.lastOK,
		API:          d.metrics.APICounts(),
		Errors:       d.errs.List(),
		Loops:        d.beat.Loops(),
		Dependencies: d.deps.List(),
	}
	for _, h := range d.hosts {
		if h.Instance == d.self.ID {
			doc.Host.Registered = true
		}
	}
	if d.report != nil {
		doc.Host.ClaimConflicts = status.ClaimConflictsOf(d.self.ID, d.report.ClaimConflicts)
		doc.Host.RecordRefused = status.RecordRefusedOf(d.self.ID, d.report.RefusedHosts)
	}
	switch {
	case d.mode() == status.ModeSelf || d.isLeader:
		doc.Leader = status.LeaderStatus{Instance: d.self.ID, StatusAddr: d.cfg.StatusAddr, IsSelf: true, Known: true}
	case d.leaderErr == nil && d.leader.Instance != "":
		doc.Leader = status.LeaderStatus{Instance: d.leader.Instance, StatusAddr: d.leader.StatusAddr, Known: true}
	}
	return doc
}

// refreshFromRegistry reads the leader and its last report, at most every
// leaderCacheFor. A follower shows the leader's report, not its own.
func (d *daemon) refreshFromRegistry() {
	d.mu.Lock()
	reg := d.reg
	skip := reg == nil || d.isLeader || time.Since(d.leaderAt) < leaderCacheFor
	d.mu.Unlock()
	if skip {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	leader, ok, err := reg.Leader(ctx)
	if err == nil && !ok {
		leader = registry.LeaderInfo{}
	}
	var rep *reconciler.Report
	if err == nil {
		if r, found, rerr := reg.Report(ctx); rerr == nil && found {
			rep = &r
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.leader, d.leaderErr, d.leaderAt = leader, err, time.Now()
	if rep != nil && !d.isLeader {
		d.report = rep
		if status.Succeeded(*rep) {
			d.lastOK = rep.Started.Add(rep.Duration)
		}
	}
}

// ready: the host is configured, every dependency is up and the record is
// published. The first thing missing is named, so that an operator knows
// what the daemon waits for.
func (d *daemon) ready() error {
	s := d.agent.snapshot()
	switch {
	case s.lastApplied.IsZero():
		return errors.New("host config not applied yet")
	case s.hostConfig == status.HostConfigWaiting:
		return fmt.Errorf("host config %s", s.hostErr)
	case s.hostConfig == status.HostConfigError:
		return fmt.Errorf("host config failed: %s", s.hostErr)
	}
	if dep, missing := d.deps.Missing(); missing {
		msg := fmt.Sprintf("waiting for %s (%s since %s)", dep.Name, dep.State, dep.Since.Format(time.RFC3339))
		if dep.Error != "" {
			msg += ": " + dep.Error
		}
		return errors.New(msg)
	}
	switch {
	case !s.ready:
		if s.publishErr != "" {
			return fmt.Errorf("host record not published: %s", s.publishErr)
		}
		return errors.New("host record not published yet")
	}
	return nil
}
