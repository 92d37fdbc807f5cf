package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"unicode"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/vpcroute/vpcroute/reconciler"
)

// maxInstanceLen bounds an instance ID used as a key segment; cloud IDs
// are far shorter.
const maxInstanceLen = 128

// Publish writes h as the record of h.Instance, without a lease: the
// record stays until Remove. Rewriting a record keeps its creation order.
func (r *Registry) Publish(ctx context.Context, h reconciler.Host) error {
	if err := validateInstance(h.Instance); err != nil {
		return err
	}
	b, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("encode host record %s: %w", h.Instance, err)
	}
	ctx, cancel := r.reqCtx(ctx)
	defer cancel()
	if _, err := r.client.Put(ctx, r.hostKey(h.Instance), string(b)); err != nil {
		return fmt.Errorf("publish host record %s: %w", h.Instance, err)
	}
	return nil
}

// Get reads one host's record; false when there is none.
func (r *Registry) Get(ctx context.Context, instance string) (reconciler.Host, bool, error) {
	if err := validateInstance(instance); err != nil {
		return reconciler.Host{}, false, err
	}
	ctx, cancel := r.reqCtx(ctx)
	defer cancel()
	resp, err := r.client.Get(ctx, r.hostKey(instance))
	if err != nil {
		return reconciler.Host{}, false, fmt.Errorf("read host record %s: %w", instance, err)
	}
	if len(resp.Kvs) == 0 {
		return reconciler.Host{}, false, nil
	}
	h := r.decodeHost(resp.Kvs[0])
	if h.Problem != "" {
		return reconciler.Host{}, false, fmt.Errorf("host record %s: %s", h.Instance, h.Problem)
	}
	return h, true, nil
}

// Remove deletes a host's record (deregistration: `sync --remove`, or the
// leader forgetting an instance the cloud confirmed gone). Removing a
// missing record is not an error.
func (r *Registry) Remove(ctx context.Context, instance string) error {
	if err := validateInstance(instance); err != nil {
		return err
	}
	ctx, cancel := r.reqCtx(ctx)
	defer cancel()
	if _, err := r.client.Delete(ctx, r.hostKey(instance)); err != nil {
		return fmt.Errorf("remove host record %s: %w", instance, err)
	}
	return nil
}

// Hosts lists every host record, sorted by instance, with the etcd
// revision of the read. A record that cannot be decoded is listed with
// Problem set: one bad record must not stop the cluster's reconciliation,
// the leader refuses it and reports it, and refusing it never deletes a
// route by itself (deletion needs the cloud to confirm the instance gone).
func (r *Registry) Hosts(ctx context.Context) ([]reconciler.Host, int64, error) {
	ctx, cancel := r.reqCtx(ctx)
	defer cancel()
	resp, err := r.client.Get(ctx, r.hostsPrefix, clientv3.WithPrefix())
	if err != nil {
		return nil, 0, fmt.Errorf("list host records under %s: %w", r.hostsPrefix, err)
	}
	hosts := make([]reconciler.Host, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		hosts = append(hosts, r.decodeHost(kv))
	}
	sortHosts(hosts)
	return hosts, resp.Header.Revision, nil
}

// decodeHost parses a record and fills Order from the key's creation
// revision. A record that cannot be taken as written (too large, not JSON,
// naming another instance than its key) comes back with Problem set and
// the key's instance, so that the leader can refuse it and say so instead
// of silently leaving it out.
func (r *Registry) decodeHost(kv *mvccpb.KeyValue) reconciler.Host {
	key := string(kv.Key)
	want := strings.TrimPrefix(key, r.hostsPrefix)
	bad := func(format string, args ...any) reconciler.Host {
		return reconciler.Host{Instance: want, Order: kv.CreateRevision, Revision: kv.ModRevision, Problem: fmt.Sprintf(format, args...)}
	}
	if err := validateInstance(want); err != nil {
		return bad("record key %q does not name an instance: %v", key, err)
	}
	if n := len(kv.Value); n > reconciler.MaxRecordBytes {
		return bad("record is %d bytes: expected at most %d", n, reconciler.MaxRecordBytes)
	}
	var h reconciler.Host
	if err := json.Unmarshal(kv.Value, &h); err != nil {
		return bad("record is not a valid host record: %v", err)
	}
	if h.Instance != want {
		return bad("record names instance %q: expected %q, the instance its key names", h.Instance, want)
	}
	h.Order, h.Revision = kv.CreateRevision, kv.ModRevision
	return h
}

// Forget removes what the registry holds for an instance the cloud
// confirmed gone, after the leader deleted its routes: its record, then its
// subnet lease (vpcroute allocate), so that the subnet may go to another
// host only once nothing routes it any more.
func (r *Registry) Forget(ctx context.Context, instance string) error {
	if err := r.Remove(ctx, instance); err != nil {
		return err
	}
	if _, err := r.ReleaseSubnet(ctx, instance); err != nil {
		return fmt.Errorf("release the subnet lease of gone host %s: %w", instance, err)
	}
	return nil
}

// hostKey is the key of one host's record.
func (r *Registry) hostKey(instance string) string { return r.hostsPrefix + instance }

// sortHosts orders records by instance ID.
func sortHosts(hosts []reconciler.Host) {
	sort.Slice(hosts, func(i, j int) bool { return hosts[i].Instance < hosts[j].Instance })
}

// validateInstance keeps instance IDs usable as a single key segment.
func validateInstance(instance string) error {
	if instance == "" {
		return fmt.Errorf("instance is empty: expected a cloud instance ID such as i-bp1abc")
	}
	if len(instance) > maxInstanceLen || strings.ContainsRune(instance, '/') ||
		strings.IndexFunc(instance, func(c rune) bool { return unicode.IsSpace(c) || unicode.IsControl(c) }) >= 0 {
		return fmt.Errorf("instance %q is invalid: expected a cloud instance ID without '/' or spaces, at most %d characters", instance, maxInstanceLen)
	}
	return nil
}
