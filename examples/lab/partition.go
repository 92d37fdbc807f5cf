package lab

import (
	"context"
	"fmt"
	"strconv"
)

// etcdCutComment marks the rules CutFromEtcd inserts, so that HealEtcdCut
// deletes exactly them.
const etcdCutComment = "vpcroute-lab-etcd-cut"

// etcdCutRules are the iptables rules (without -I/-D) that cut a host off
// from the lab's etcd in both directions and from nothing else: the cloud
// API, the other hosts and the containers stay reachable.
func etcdCutRules() [][]string {
	port := strconv.Itoa(etcdClientPort)
	return [][]string{
		{"OUTPUT", "-p", "tcp", "-d", RouterIP, "--dport", port, "-m", "comment", "--comment", etcdCutComment, "-j", "DROP"},
		{"INPUT", "-p", "tcp", "-s", RouterIP, "--sport", port, "-m", "comment", "--comment", etcdCutComment, "-j", "DROP"},
	}
}

// CutFromEtcd drops every packet between host h and the lab's etcd, in
// h's own network namespace (never the root one): h's daemon keeps
// running, the cloud API and the other hosts stay reachable, only the
// registry goes silent, as when a network partition isolates one host.
// Established connections hang rather than close.
func (l *Lab) CutFromEtcd(ctx context.Context, h *Host) error {
	if l.etcd == nil {
		return fmt.Errorf("cut %s from etcd: the lab has no etcd (Config.Etcd is false)", h.Name)
	}
	for _, r := range etcdCutRules() {
		if _, err := l.HostExec(ctx, h, append([]string{"iptables", "-w", "-I"}, r...)...); err != nil {
			return fmt.Errorf("cut %s from etcd: %w", h.Name, err)
		}
	}
	l.log.Info("host cut off from etcd", zapHost(h))
	return nil
}

// HealEtcdCut deletes the rules of CutFromEtcd from host h; a host not cut
// off is left as it is.
func (l *Lab) HealEtcdCut(ctx context.Context, h *Host) error {
	for _, r := range etcdCutRules() {
		// -C first: deleting a rule that is not there is an error.
		if _, err := l.HostExec(ctx, h, append([]string{"iptables", "-w", "-C"}, r...)...); err != nil {
			if exitCode(err) == 1 {
				continue
			}
			return fmt.Errorf("heal %s's cut from etcd: %w", h.Name, err)
		}
		if _, err := l.HostExec(ctx, h, append([]string{"iptables", "-w", "-D"}, r...)...); err != nil {
			return fmt.Errorf("heal %s's cut from etcd: %w", h.Name, err)
		}
	}
	l.log.Info("host reconnected to etcd", zapHost(h))
	return nil
}
