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
	"go.uber.org/zap"

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
	h, err := r.decodeHost(resp.Kvs[0])
	if err != nil {
		return reconciler.Host{}, false, err
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
// revision of the read. A record that cannot be decoded is left out and
// logged: one bad record must not stop the cluster's reconciliation, and
// leaving it out never deletes a route by itself (deletion needs the cloud
// to confirm the instance gone).
func (r *Registry) Hosts(ctx context.Context) ([]reconciler.Host, int64, error) {
	ctx, cancel := r.reqCtx(ctx)
	defer cancel()
	resp, err := r.client.Get(ctx, r.hostsPrefix, clientv3.WithPrefix())
	if err != nil {
		return nil, 0, fmt.Errorf("list host records under %s: %w", r.hostsPrefix, err)
	}
	hosts := make([]reconciler.Host, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		h, err := r.decodeHost(kv)
		if err != nil {
			r.log.Warn("skipping host record", zap.Error(err))
			continue
		}
		hosts = append(hosts, h)
	}
	sortHosts(hosts)
	return hosts, resp.Header.Revision, nil
}

// decodeHost parses a record and fills Order from the key's creation
// revision. The record must name the instance its key names.
func (r *Registry) decodeHost(kv *mvccpb.KeyValue) (reconciler.Host, error) {
	key := string(kv.Key)
	var h reconciler.Host
	if err := json.Unmarshal(kv.Value, &h); err != nil {
		return reconciler.Host{}, fmt.Errorf("host record %s is not valid JSON: %w", key, err)
	}
	if want := strings.TrimPrefix(key, r.hostsPrefix); h.Instance != want {
		return reconciler.Host{}, fmt.Errorf("host record %s names instance %q: expected %q", key, h.Instance, want)
	}
	h.Order = kv.CreateRevision
	return h, nil
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
