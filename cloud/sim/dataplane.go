package sim

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sort"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"go.uber.org/zap"
	"golang.org/x/sys/unix"
)

// RouteProtocol marks the kernel routes the data plane adds ("proto 0x56"
// in ip route). Only routes carrying it are ever changed or deleted, so the
// namespace's own routes are never touched.
const RouteProtocol = netlink.RouteProtocol(0x56)

// DataplaneSelf names the simulator's own network namespace.
const DataplaneSelf = "self"

// KernelRoute is a route the data plane keeps in the kernel.
type KernelRoute struct {
	Destination string `json:"destination"`
	Gateway     string `json:"gateway"`
}

// DataplaneStatus is the data plane's state for the admin API.
type DataplaneStatus struct {
	Enabled   bool          `json:"enabled"`
	Netns     string        `json:"netns,omitempty"`
	Routes    []KernelRoute `json:"routes"`
	LastError string        `json:"lastError,omitempty"`
}

type dataplane interface {
	sync(want map[netip.Prefix]netip.Addr) error
	routes() ([]KernelRoute, error)
	close() error
	name() string
}

// netlinkDataplane programs the main table of one network namespace.
type netlinkDataplane struct {
	netns string
	ns    netns.NsHandle // closed with the handle; -1 for "self"
	h     *netlink.Handle
	log   *zap.Logger
}

func openDataplane(name string, log *zap.Logger) (dataplane, error) {
	d := &netlinkDataplane{netns: name, ns: -1, log: log}
	var err error
	if name == DataplaneSelf {
		d.h, err = netlink.NewHandle(unix.NETLINK_ROUTE)
	} else {
		if d.ns, err = netns.GetFromName(name); err != nil {
			return nil, fmt.Errorf("data plane: open network namespace %q: %w", name, err)
		}
		d.h, err = netlink.NewHandleAt(d.ns, unix.NETLINK_ROUTE)
	}
	if err != nil {
		if d.ns >= 0 {
			_ = d.ns.Close() // the open error is the one worth reporting
		}
		return nil, fmt.Errorf("data plane: netlink handle for namespace %q: %w", name, err)
	}
	return d, nil
}

func (d *netlinkDataplane) name() string { return d.netns }

// owned lists the routes carrying RouteProtocol in the main table.
func (d *netlinkDataplane) owned() ([]netlink.Route, error) {
	filter := &netlink.Route{Protocol: RouteProtocol, Table: unix.RT_TABLE_MAIN}
	rs, err := d.h.RouteListFiltered(netlink.FAMILY_V4, filter, netlink.RT_FILTER_PROTOCOL|netlink.RT_FILTER_TABLE)
	if err != nil {
		return nil, fmt.Errorf("data plane: list routes in %q: %w", d.netns, err)
	}
	return rs, nil
}

// sync makes the owned routes equal to want (destination -> gateway).
func (d *netlinkDataplane) sync(want map[netip.Prefix]netip.Addr) error {
	have, err := d.owned()
	if err != nil {
		return err
	}
	var errs []error
	done := map[netip.Prefix]bool{}
	for _, r := range have {
		dest, gw := routeKey(r)
		if g, ok := want[dest]; ok && g == gw && !done[dest] {
			done[dest] = true
			continue
		}
		if err := d.h.RouteDel(&r); err != nil && !errors.Is(err, unix.ESRCH) {
			errs = append(errs, fmt.Errorf("delete route %s via %s: %w", dest, gw, err))
			continue
		}
		d.log.Info("data plane: route removed", zap.String("netns", d.netns), zap.Stringer("destination", dest), zap.Stringer("gateway", gw))
	}
	for dest, gw := range want {
		if done[dest] {
			continue
		}
		r := &netlink.Route{
			Dst:      &net.IPNet{IP: dest.Addr().AsSlice(), Mask: net.CIDRMask(dest.Bits(), 32)},
			Gw:       gw.AsSlice(),
			Protocol: RouteProtocol,
			Table:    unix.RT_TABLE_MAIN,
		}
		// RouteAdd, not RouteReplace: a route someone else put there for the
		// same destination is not ours to overwrite.
		if err := d.h.RouteAdd(r); err != nil {
			errs = append(errs, fmt.Errorf("add route %s via %s: %w", dest, gw, err))
			continue
		}
		d.log.Info("data plane: route added", zap.String("netns", d.netns), zap.Stringer("destination", dest), zap.Stringer("gateway", gw))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("data plane in %q: %w", d.netns, err)
	}
	return nil
}

func routeKey(r netlink.Route) (netip.Prefix, netip.Addr) {
	var dest netip.Prefix
	if r.Dst != nil {
		a, _ := netip.AddrFromSlice(r.Dst.IP)
		ones, _ := r.Dst.Mask.Size()
		dest = netip.PrefixFrom(a.Unmap(), ones)
	}
	gw, _ := netip.AddrFromSlice(r.Gw)
	return dest, gw.Unmap()
}

func (d *netlinkDataplane) routes() ([]KernelRoute, error) {
	have, err := d.owned()
	if err != nil {
		return nil, err
	}
	out := make([]KernelRoute, 0, len(have))
	for _, r := range have {
		dest, gw := routeKey(r)
		out = append(out, KernelRoute{Destination: dest.String(), Gateway: gw.String()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Destination < out[j].Destination })
	return out, nil
}

// close removes every owned route and releases the namespace.
func (d *netlinkDataplane) close() error {
	err := d.sync(nil)
	d.h.Close()
	if d.ns >= 0 {
		if cerr := d.ns.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("data plane: close namespace handle: %w", cerr)
		}
	}
	return err
}

// kernelRoutes is the data plane's desired state: every custom Instance
// entry that forwards traffic (all but Pending ones: a Deleting entry still
// forwards until it is gone) whose instance exists; on AWS every active
// route to an ENI. Callers hold s.mu.
func (s *Server) kernelRoutes() map[netip.Prefix]netip.Addr {
	return s.w.d.kernelRoutes(s)
}

// SyncDataplane brings the kernel routes in line with the route tables now.
// The simulator calls it after every change; it is a no-op without a data
// plane.
func (s *Server) SyncDataplane() error {
	s.dpMu.Lock()
	defer s.dpMu.Unlock()
	if s.dp == nil {
		return nil
	}
	s.mu.Lock()
	want := s.kernelRoutes()
	s.mu.Unlock()
	err := s.dp.sync(want)
	if err != nil {
		s.log.Warn("data plane sync failed", zap.Error(err))
		s.dpLastErr = err.Error()
	} else {
		s.dpLastErr = ""
	}
	return err
}

// Dataplane reports the data plane's namespace, its kernel routes and the
// last error.
func (s *Server) Dataplane() (DataplaneStatus, error) {
	s.dpMu.Lock()
	defer s.dpMu.Unlock()
	st := DataplaneStatus{Routes: []KernelRoute{}}
	if s.dp == nil {
		return st, nil
	}
	st.Enabled, st.Netns = true, s.dp.name()
	st.LastError = s.dpLastErr
	rs, err := s.dp.routes()
	if err != nil {
		return st, err
	}
	st.Routes = rs
	return st, nil
}
