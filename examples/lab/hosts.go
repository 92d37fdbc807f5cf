package lab

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"syscall"

	"go.uber.org/zap"
)

// hostList returns the current hosts. The slice is never changed in place,
// so the caller may range over it while hosts join or leave.
func (l *Lab) hostList() []*Host {
	l.hostsMu.Lock()
	defer l.hostsMu.Unlock()
	return l.Hosts
}

// setHosts installs the first hosts and the next free index.
func (l *Lab) setHosts(hosts []*Host, next int) {
	l.hostsMu.Lock()
	defer l.hostsMu.Unlock()
	l.Hosts, l.nextIndex = hosts, next
}

// Host returns the host with the given index, or nil when no such host is
// (still) in the lab.
func (l *Lab) Host(index int) *Host {
	for _, h := range l.hostList() {
		if h.Index == index {
			return h
		}
	}
	return nil
}

// AddHost is a host joining the running lab: a new namespace on the
// vswitch with the next unused index and, when the lab has a simulator, a
// new instance in the simulated cloud (POST /sim/v1/instances); then it
// boots as Up boots every host (allocate writes its bip, then its dockerd
// and container start). No vpcroute
// runs on it yet: start its daemon with StartDaemon. On failure everything
// of the new host is torn down again.
func (l *Lab) AddHost(ctx context.Context) (*Host, error) {
	l.hostsMu.Lock()
	i := l.nextIndex
	l.nextIndex++
	l.hostsMu.Unlock()
	h, err := l.newHost(i)
	if err != nil {
		return nil, fmt.Errorf("add host: %w", err)
	}
	l.log.Info("adding host", zapHost(h))
	if err := l.join(ctx, h); err != nil {
		return nil, errors.Join(fmt.Errorf("add %s: %w", h.Name, err), l.dropHost(ctx, h, syscall.SIGKILL))
	}
	l.hostsMu.Lock()
	l.Hosts = append(slices.Clip(l.Hosts), h)
	l.hostsMu.Unlock()
	return h, nil
}

// join wires a new host, registers its instance (allocate reads it from
// the cloud) and boots it: allocate, then Docker. When the boot fails the
// instance is released again.
func (l *Lab) join(ctx context.Context, h *Host) error {
	if err := l.setupHostNetns(ctx, h); err != nil {
		return err
	}
	if l.sim == nil {
		return l.startHostDocker(ctx, h)
	}
	if err := l.SimAddInstance(ctx, h); err != nil {
		return err
	}
	if err := l.startHostDocker(ctx, h); err != nil {
		return errors.Join(err, l.SimRemoveInstance(ctx, h.InstanceID))
	}
	return nil
}

// RemoveHost decommissions host h the documented way: its daemon stops
// (SIGTERM, which keeps routes), `vpcroute sync --remove` deregisters the
// host from the registry (with etcd) and deletes its routes, the simulated
// cloud releases its instance, and its namespace, dockerd and directory
// are torn down. It tears down even when a step before fails, and reports
// every failure.
func (l *Lab) RemoveHost(ctx context.Context, h *Host) error {
	if !l.isHost(h) {
		return fmt.Errorf("remove host %s: not a host of the lab", h.Name)
	}
	l.log.Info("removing host", zapHost(h))
	errs := []error{l.StopDaemon(h, syscall.SIGTERM)}
	if l.sim != nil {
		extra := []string{"--remove"}
		if ep := l.EtcdEndpoint(); ep != "" {
			extra = append(extra, "--etcd-endpoints", ep)
		}
		if _, err := l.Vpcroute(ctx, h, "sync", extra...); err != nil {
			errs = append(errs, fmt.Errorf("deregister %s: %w", h.Name, err))
		}
		errs = append(errs, l.SimRemoveInstance(ctx, h.InstanceID))
	}
	errs = append(errs, l.dropHost(ctx, h, syscall.SIGTERM))
	l.forget(h)
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("remove %s: %w", h.Name, err)
	}
	return nil
}

// TerminateHost is a host vanishing without a word: its daemon dies
// (SIGKILL), the simulated cloud releases its instance (DELETE
// /sim/v1/instances/ID, which also drops its kernel routes in the router),
// and its namespace goes. Its registry record and route entries stay: only
// the leader, once the host has been silent for the daemon's silent-after
// and the cloud confirms the instance is gone, may delete them.
func (l *Lab) TerminateHost(ctx context.Context, h *Host) error {
	if !l.isHost(h) {
		return fmt.Errorf("terminate host %s: not a host of the lab", h.Name)
	}
	l.log.Info("terminating host", zapHost(h))
	errs := []error{l.StopDaemon(h, syscall.SIGKILL)}
	if l.sim != nil {
		errs = append(errs, l.SimRemoveInstance(ctx, h.InstanceID))
	}
	errs = append(errs, l.dropHost(ctx, h, syscall.SIGKILL))
	l.forget(h)
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("terminate %s: %w", h.Name, err)
	}
	return nil
}

// dropHost tears down one host: its daemon (with sig), its container and
// dockerd, then the scoped sweep removes whatever is left of it (processes
// in its namespaces, mounts, the namespace, its directory).
func (l *Lab) dropHost(ctx context.Context, h *Host, sig syscall.Signal) error {
	errs := []error{l.StopDaemon(h, sig), l.stopHostDocker(ctx, h)}
	errs = append(errs, sweepHost(ctx, l.ID, l.Dir, fmt.Sprintf("h%d", h.Index)))
	l.log.Info("host torn down", zapHost(h), zap.Bool("ok", errors.Join(errs...) == nil))
	return errors.Join(errs...)
}

func (l *Lab) isHost(h *Host) bool { return slices.Contains(l.hostList(), h) }

// forget takes h out of Hosts (a new slice: readers keep a consistent one).
func (l *Lab) forget(h *Host) {
	l.hostsMu.Lock()
	defer l.hostsMu.Unlock()
	l.Hosts = slices.DeleteFunc(slices.Clone(l.Hosts), func(x *Host) bool { return x == h })
}
