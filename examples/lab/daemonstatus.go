package lab

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/vpcroute/vpcroute/reconciler/status"
)

// DaemonReady says why a daemon's status document is not ready yet ("" when
// it is): its host config applied and ok and, in cluster mode, its host
// registered.
func DaemonReady(doc status.Document, cluster bool) string {
	hc := doc.Host.HostConfig
	switch {
	case hc.State == "":
		return "host config not applied yet"
	case hc.State != status.HostConfigOK:
		return fmt.Sprintf("host config %s: %s", hc.State, hc.Error)
	case cluster && doc.Mode != status.ModeCluster:
		return fmt.Sprintf("mode %q, want %q", doc.Mode, status.ModeCluster)
	case !doc.Host.Registered:
		return "host not registered yet"
	}
	return ""
}

// HostConfigured says why a daemon's host config is not applied and ok
// yet ("" when it is), whatever the control plane's state.
func HostConfigured(doc status.Document) string {
	if hc := doc.Host.HostConfig; hc.State != status.HostConfigOK {
		return fmt.Sprintf("host config %q: %s", hc.State, hc.Error)
	}
	return ""
}

// Status returns host h's daemon status document, read with `vpcroute
// status -o json` inside h's namespace (the daemon serves on that
// namespace's loopback only).
func (l *Lab) Status(ctx context.Context, h *Host) (status.Document, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := l.Vpcroute(ctx, h, "status", "-o", "json", "--status-addr", DaemonStatusAddr)
	if err != nil {
		return status.Document{}, fmt.Errorf("status of %s: %w", h.Name, err)
	}
	return status.Decode([]byte(out), h.Name+" "+DaemonStatusAddr)
}

// StatusText returns `vpcroute status` as a person reads it, from host h.
func (l *Lab) StatusText(ctx context.Context, h *Host) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := l.Vpcroute(ctx, h, "status", "--status-addr", DaemonStatusAddr)
	if err != nil {
		return "", fmt.Errorf("status of %s: %w", h.Name, err)
	}
	return out, nil
}

// Leader asks every host's daemon who leads and returns the leader's host
// when they all name the same one and exactly that one says it is the
// leader. The error says how the views differ.
func (l *Lab) Leader(ctx context.Context) (*Host, error) {
	hosts := l.hostList()
	var (
		named    []string
		selfSaid []string
		leader   string
	)
	for _, h := range hosts {
		doc, err := l.Status(ctx, h)
		if err != nil {
			return nil, err
		}
		named = append(named, fmt.Sprintf("%s says %q", h.Name, doc.Leader.Instance))
		if !doc.Leader.Known {
			return nil, fmt.Errorf("no leader known to %s", h.Name)
		}
		if leader == "" {
			leader = doc.Leader.Instance
		}
		if doc.Leader.Instance != leader {
			return nil, fmt.Errorf("hosts disagree on the leader: %s", strings.Join(named, ", "))
		}
		if doc.Leader.IsSelf {
			selfSaid = append(selfSaid, h.Name)
		}
	}
	if len(selfSaid) != 1 {
		return nil, fmt.Errorf("%d daemons say they lead (%s), want exactly 1", len(selfSaid), strings.Join(selfSaid, ", "))
	}
	for _, h := range hosts {
		if h.InstanceID == leader {
			if h.Name != selfSaid[0] {
				return nil, fmt.Errorf("every host names %s (%s) the leader, but %s says it leads", leader, h.Name, selfSaid[0])
			}
			return h, nil
		}
	}
	return nil, fmt.Errorf("the leader %s is not a host of the lab", leader)
}

// WaitLeader waits (at most timeout) until Leader agrees on one leader.
func (l *Lab) WaitLeader(ctx context.Context, timeout time.Duration) (*Host, error) {
	var (
		leader *Host
		last   error
	)
	err := poll(ctx, timeout, 200*time.Millisecond, func() (bool, error) {
		leader, last = l.Leader(ctx)
		return last == nil, nil
	})
	if err != nil {
		return nil, fmt.Errorf("wait for one leader: %w; last view: %v", err, last)
	}
	return leader, nil
}
