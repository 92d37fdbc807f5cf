package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Subnet leases, under /vpcroute/<cluster>/subnets/:
//
//	subnets/cidr/<addr>-<len>      JSON SubnetLease, the subnet's holder;
//	                               addr is zero-padded (010.001.196.000) so
//	                               that keys sort by address and every lease
//	                               inside a subnet is one key range
//	subnets/instance/<instance>    the same JSON: the instance's one lease
//
// A lease has no etcd lease (TTL): like a route it outlives agents and
// etcd restarts, and goes only by ReleaseSubnet (`sync --remove`, or the
// leader once the cloud confirms the instance gone).

// SubnetLease is one host's leased container subnet.
type SubnetLease struct {
	Instance string       `json:"instance"`
	Subnet   netip.Prefix `json:"subnet"`
	// Since is when it was leased, for people; nothing decides by it.
	Since time.Time `json:"since"`
}

// ChooseSubnet decides an instance's subnet from its current lease
// (invalid when it has none) and the subnets other instances hold. It is
// called again with fresh data when another host leased at the same time.
type ChooseSubnet func(current netip.Prefix, others []netip.Prefix) (netip.Prefix, error)

func (r *Registry) subnetsPrefix() string { return r.prefix + "subnets/" }
func (r *Registry) cidrPrefix() string    { return r.subnetsPrefix() + "cidr/" }
func (r *Registry) leaseInstanceKey(instance string) string {
	return r.subnetsPrefix() + "instance/" + instance
}

// cidrKey is the key of a subnet's lease.
func (r *Registry) cidrKey(p netip.Prefix) string {
	return r.cidrPrefix() + paddedAddr(uint64(addrU32(p.Addr()))) + "-" + strconv.Itoa(p.Bits())
}

// paddedAddr writes an IPv4 address (or 2^32, past the last one) with
// three digits per byte, so that keys sort as addresses do.
func paddedAddr(v uint64) string {
	if v > 0xFFFFFFFF {
		return "256.000.000.000"
	}
	return fmt.Sprintf("%03d.%03d.%03d.%03d", v>>24&0xFF, v>>16&0xFF, v>>8&0xFF, v&0xFF)
}

func addrU32(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// parseCIDRKey reads the subnet back from a lease key's last segment.
func parseCIDRKey(seg string) (netip.Prefix, bool) {
	a, bits, ok := strings.Cut(seg, "-")
	if !ok {
		return netip.Prefix{}, false
	}
	var parts []string
	for _, p := range strings.Split(a, ".") {
		parts = append(parts, strings.TrimLeft(p, "0"))
	}
	for i, p := range parts {
		if p == "" {
			parts[i] = "0"
		}
	}
	p, err := netip.ParsePrefix(strings.Join(parts, ".") + "/" + bits)
	if err != nil || !p.Addr().Is4() || p != p.Masked() {
		return netip.Prefix{}, false
	}
	return p, true
}

// leaseState is what one read of the lease keys says.
type leaseState struct {
	rev     int64
	current SubnetLease // Subnet invalid: none
	// currentRev is the ModRevision of the instance's key, 0 when absent.
	currentRev int64
	all        []SubnetLease
}

// readLeases reads every lease of the cluster and instance's own.
func (r *Registry) readLeases(ctx context.Context, instance string) (leaseState, error) {
	var st leaseState
	ctx, cancel := r.reqCtx(ctx)
	defer cancel()
	resp, err := r.client.Get(ctx, r.subnetsPrefix(), clientv3.WithPrefix())
	if err != nil {
		return st, fmt.Errorf("read subnet leases under %s: %w", r.subnetsPrefix(), err)
	}
	st.rev = resp.Header.Revision
	own := r.leaseInstanceKey(instance)
	for _, kv := range resp.Kvs {
		key := string(kv.Key)
		var l SubnetLease
		if key == own {
			st.currentRev = kv.ModRevision
			if json.Unmarshal(kv.Value, &l) == nil && l.Instance == instance && l.Subnet.IsValid() {
				st.current = l
			}
			continue
		}
		seg, ok := strings.CutPrefix(key, r.cidrPrefix())
		if !ok {
			continue
		}
		p, ok := parseCIDRKey(seg)
		if !ok {
			continue // not a key vpcroute writes; it cannot collide with one
		}
		// The subnet is the key's, whatever the value says: a corrupt value
		// still holds its range, for no one in particular.
		_ = json.Unmarshal(kv.Value, &l)
		st.all = append(st.all, SubnetLease{Instance: l.Instance, Subnet: p, Since: l.Since})
	}
	return st, nil
}

// SubnetLeases lists every lease of the cluster, by address.
func (r *Registry) SubnetLeases(ctx context.Context) ([]SubnetLease, error) {
	st, err := r.readLeases(ctx, "")
	return st.all, err
}

// LeaseSubnet gives instance the subnet choose picks and returns it. An
// instance holds one lease: asking again returns it when choose keeps it
// (no write), and a different choice moves the lease in one transaction.
// Many hosts may lease at once: each lease is a compare-and-swap (etcd
// Txn) that succeeds only when no lease inside or around the subnet, and
// none of the instance's own, was written since the read; a host that
// loses reads again and chooses again, until ctx ends.
func (r *Registry) LeaseSubnet(ctx context.Context, instance string, choose ChooseSubnet) (netip.Prefix, error) {
	return r.untilSwapped(ctx, instance, func(st leaseState) (netip.Prefix, bool, error) {
		var others []netip.Prefix
		for _, l := range st.all {
			if l.Instance != instance || l.Subnet != st.current.Subnet {
				others = append(others, l.Subnet)
			}
		}
		want, err := choose(st.current.Subnet, others)
		if err != nil {
			return netip.Prefix{}, false, err
		}
		if !want.IsValid() || !want.Addr().Is4() || want != want.Masked() {
			return netip.Prefix{}, false, fmt.Errorf("lease subnet for %s: %q is not an IPv4 network", instance, want)
		}
		if want == st.current.Subnet {
			return want, true, nil
		}
		for _, o := range others {
			if o.Overlaps(want) {
				return netip.Prefix{}, false, fmt.Errorf("lease subnet %s for %s: it overlaps %s, leased to another host", want, instance, o)
			}
		}
		won, err := r.swapLease(ctx, instance, st, want)
		if err == nil && !won {
			r.log.Debug("subnet lease raced another host; choosing again")
		}
		return want, won, err
	})
}

// untilSwapped reads instance's leases and calls attempt with them until
// it reports done (its transaction won) or an error.
func (r *Registry) untilSwapped(ctx context.Context, instance string, attempt func(leaseState) (netip.Prefix, bool, error)) (netip.Prefix, error) {
	if err := validateInstance(instance); err != nil {
		return netip.Prefix{}, err
	}
	for {
		st, err := r.readLeases(ctx, instance)
		if err != nil {
			return netip.Prefix{}, err
		}
		p, done, err := attempt(st)
		if err != nil {
			return netip.Prefix{}, err
		}
		if done {
			return p, nil
		}
	}
}

// swapLease writes instance's lease of want, dropping its current one,
// if nothing that could conflict changed since st was read.
func (r *Registry) swapLease(ctx context.Context, instance string, st leaseState, want netip.Prefix) (bool, error) {
	b, err := json.Marshal(SubnetLease{Instance: instance, Subnet: want, Since: time.Now().UTC()})
	if err != nil {
		return false, fmt.Errorf("encode subnet lease: %w", err)
	}
	unchanged := st.rev + 1
	first := uint64(addrU32(want.Addr()))
	end := first + uint64(1)<<(32-want.Bits())
	cmps := []clientv3.Cmp{
		// No lease whose address lies inside want, and none of this
		// instance's, appeared or changed since the read.
		clientv3.Compare(clientv3.ModRevision(r.cidrPrefix()+paddedAddr(first)), "<", unchanged).
			WithRange(r.cidrPrefix() + paddedAddr(end)),
		clientv3.Compare(clientv3.ModRevision(r.leaseInstanceKey(instance)), "=", st.currentRev),
	}
	// Nor one of a broader subnet that contains want.
	for bits := want.Bits() - 1; bits >= 0; bits-- {
		super := netip.PrefixFrom(want.Addr(), bits).Masked()
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(r.cidrKey(super)), "<", unchanged))
	}
	ops := []clientv3.Op{
		clientv3.OpPut(r.cidrKey(want), string(b)),
		clientv3.OpPut(r.leaseInstanceKey(instance), string(b)),
	}
	if st.current.Subnet.IsValid() {
		ops = append(ops, clientv3.OpDelete(r.cidrKey(st.current.Subnet)))
	}
	tctx, cancel := r.reqCtx(ctx)
	defer cancel()
	resp, err := r.client.Txn(tctx).If(cmps...).Then(ops...).Commit()
	if err != nil {
		return false, fmt.Errorf("lease subnet %s for %s: %w", want, instance, err)
	}
	return resp.Succeeded, nil
}

// ReleaseSubnet deletes instance's lease, if it has one, so that another
// host may take the subnet. Call it only when the instance's routes are
// gone: on decommissioning (`sync --remove`) or once the cloud confirms the
// instance gone.
func (r *Registry) ReleaseSubnet(ctx context.Context, instance string) (netip.Prefix, error) {
	return r.untilSwapped(ctx, instance, func(st leaseState) (netip.Prefix, bool, error) {
		if st.currentRev == 0 {
			return netip.Prefix{}, true, nil
		}
		cmps := []clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(r.leaseInstanceKey(instance)), "=", st.currentRev)}
		ops := []clientv3.Op{clientv3.OpDelete(r.leaseInstanceKey(instance))}
		if p := st.current.Subnet; p.IsValid() {
			// The subnet's key goes only if it is still this instance's.
			for _, l := range st.all {
				if l.Subnet == p && l.Instance == instance {
					ops = append(ops, clientv3.OpDelete(r.cidrKey(p)))
				}
			}
		}
		tctx, cancel := r.reqCtx(ctx)
		resp, err := r.client.Txn(tctx).If(cmps...).Then(ops...).Commit()
		cancel()
		if err != nil {
			return netip.Prefix{}, false, fmt.Errorf("release the subnet lease of %s: %w", instance, err)
		}
		return st.current.Subnet, resp.Succeeded, nil
	})
}
