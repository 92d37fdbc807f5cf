package sim

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// The admin operations of an AWS world: routes behind the API's back,
// instances with their ENIs, and instance state changes (stop, start,
// terminate) for both clouds.

// putRouteAWS is PutRoute in an AWS world. The destination is a CIDR or a
// prefix list ID (pl-...); Instance and NetworkInterface targets may name
// missing resources, which makes a blackhole route.
func (s *Server) putRouteAWS(req PutRouteRequest) (Entry, error) {
	e := &entry{origin: OriginCreateRoute, status: RouteActive, created: time.Now().UTC()}
	if strings.HasPrefix(req.Destination, "pl-") {
		e.prefixList = req.Destination
	} else {
		p, err := netip.ParsePrefix(req.Destination)
		if err != nil || !p.Addr().Is4() || p.Masked() != p {
			return Entry{}, paramError("destination", req.Destination, "an IPv4 CIDR written as its network address, such as 10.0.0.0/24, or a prefix list ID such as pl-6da54004")
		}
		e.dest = p
	}
	if _, ok := ec2TargetByHop(req.NextHopType); !ok {
		return Entry{}, paramError("nextHopType", req.NextHopType, "one of "+strings.Join(ec2HopTypes(), ", "))
	}
	if req.NextHopID == "" {
		return Entry{}, paramError("nextHopId", "", "the target's ID, such as eni-0123 or igw-0123")
	}
	if req.Name != "" || req.Description != "" || req.Hold {
		return Entry{}, paramError("name", req.Name, "no name, description or hold: EC2 routes have none")
	}
	e.hopType, e.hopID = req.NextHopType, req.NextHopID
	switch req.Status {
	case "", RouteActive:
	case RouteBlackhole:
		if e.hopType == NextHopInstance || e.hopType == HopNetworkInterface {
			return Entry{}, paramError("status", req.Status, "no status: an ENI route's state follows its target")
		}
		e.status = RouteBlackhole
	default:
		return Entry{}, paramError("status", req.Status, "active or blackhole")
	}
	s.mu.Lock()
	t := s.w.table(req.Table)
	if t == nil {
		s.mu.Unlock()
		return Entry{}, paramError("table", req.Table, "the ID of a route table of the topology")
	}
	if aerr := s.w.bindTarget(t, e, true); aerr != nil {
		s.mu.Unlock()
		return Entry{}, fmt.Errorf("nextHopId=%q: %s (%s)", req.NextHopID, aerr.Message, aerr.Code)
	}
	old := findRoute(t, e.dest, e.prefixList)
	switch {
	case old != nil && old.system:
		s.mu.Unlock()
		return Entry{}, paramError("destination", req.Destination, "a destination not held by the local route")
	case old != nil:
		old.hopType, old.hopID, old.eni, old.instRef, old.status = e.hopType, e.hopID, e.eni, e.instRef, e.status
		old.modified = e.created
		e = old
	default:
		s.w.newEntry(t, e)
	}
	s.w.refreshRouteStates()
	v := s.w.entryView(e)
	s.mu.Unlock()
	s.SyncDataplane()
	return v, nil
}

// deleteRouteAWS removes a prefix list route behind the API's back.
func (s *Server) deleteRouteAWS(tableID, pl string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.w.table(tableID)
	if t == nil {
		return paramError("table", tableID, "the ID of a route table of the topology")
	}
	e := t.entryByPrefixList(pl)
	if e == nil {
		return fmt.Errorf("%w: no route for %s in route table %s", ErrNotFound, pl, tableID)
	}
	s.w.removeEntry(e)
	return nil
}

// awsInstanceSpec renders an AWS instance with its ENIs. Callers hold s.mu.
func (w *world) awsInstanceSpec(in *instance) InstanceSpec {
	spec := InstanceSpec{ID: in.id, PrivateIP: in.ip.String(), Subnet: in.vswitch, IAMRole: in.ramRole, Status: in.status,
		MAC: in.mac, Name: in.name, InstanceType: in.instanceType, Tags: cloneTags(in.tags)}
	for _, n := range w.enisOf(in.id) {
		sdc := n.sourceDestCheck
		if n.deviceIndex == 0 {
			spec.ENI, spec.SourceDestCheck = n.id, &sdc
			continue
		}
		dot := n.deleteOnTermination
		spec.NetworkInterfaces = append(spec.NetworkInterfaces, ENISpec{ID: n.id, PrivateIP: n.ip.String(), Subnet: n.subnet,
			MAC: n.mac, DeleteOnTermination: &dot, SourceDestCheck: &sdc, Description: n.desc, Tags: cloneTags(n.tags)})
	}
	return spec
}

// addInstanceAWS adds or replaces an AWS instance and its ENIs.
func (s *Server) addInstanceAWS(spec InstanceSpec) error {
	s.mu.Lock()
	idx := slices.IndexFunc(s.w.instances, func(in *instance) bool { return in.id == spec.ID })
	oldENIs := map[string]*eni{}
	replacing := map[string]bool{}
	if idx >= 0 {
		for _, n := range s.w.enisOf(spec.ID) {
			oldENIs[n.id], replacing[n.id] = n, true
		}
	}
	others := slices.DeleteFunc(slices.Clone(s.w.instances), func(in *instance) bool { return in.id == spec.ID })
	probe := &world{provider: s.w.provider, d: s.w.d, account: s.w.account, region: s.w.region, vswitches: s.w.vswitches,
		instances: others, enis: s.w.enis}
	in, err := probe.buildInstance(spec, "instance")
	if err == nil {
		var enis []*eni
		if enis, err = probe.buildENIs(in, spec, "instance", replacing); err == nil {
			for i, n := range enis {
				old := oldENIs[n.id]
				if old == nil {
					continue
				}
				given := spec.SourceDestCheck
				if i > 0 {
					given = spec.NetworkInterfaces[i-1].SourceDestCheck
				}
				if given == nil {
					n.sourceDestCheck = old.sourceDestCheck
				}
				if len(n.tags) == 0 {
					n.tags = old.tags
				}
				n.attached = old.attached
			}
			s.w.enis = slices.DeleteFunc(s.w.enis, func(n *eni) bool { return replacing[n.id] })
			s.w.enis = append(s.w.enis, enis...)
			if idx >= 0 {
				in.created = s.w.instances[idx].created
				s.w.instances[idx] = in
			} else {
				s.w.instances = append(s.w.instances, in)
			}
			s.w.refreshRouteStates()
		}
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	s.SyncDataplane()
	return nil
}

// terminateAWS terminates an instance (see RemoveInstance).
func (s *Server) terminateAWS(id string, deleteRoutes bool) error {
	s.mu.Lock()
	in := s.w.instance(id)
	if in == nil {
		s.mu.Unlock()
		return fmt.Errorf("%w: no instance %q", ErrNotFound, id)
	}
	gone := map[string]bool{}
	for _, n := range s.w.enisOf(id) {
		gone[n.id] = true
	}
	if in.status == EC2Terminated {
		s.w.instances = slices.DeleteFunc(s.w.instances, func(x *instance) bool { return x == in })
	} else {
		s.w.terminate(in)
	}
	if deleteRoutes {
		for _, e := range s.sortedEntries() {
			if !e.system && (gone[e.eni] || e.instRef == id || (e.hopType == NextHopInstance && e.hopID == id)) {
				s.w.removeEntry(e)
			}
		}
	}
	s.w.refreshRouteStates()
	s.mu.Unlock()
	s.SyncDataplane()
	return nil
}

// terminate moves an instance to terminated: ENIs with DeleteOnTermination
// are deleted, the others detached. Callers hold s.mu.
func (w *world) terminate(in *instance) {
	for _, n := range w.enisOf(in.id) {
		if n.deleteOnTermination {
			w.enis = slices.DeleteFunc(w.enis, func(x *eni) bool { return x == n })
			continue
		}
		n.instance, n.deviceIndex, n.attachmentID = "", 0, ""
	}
	in.status = EC2Terminated
	w.refreshRouteStates()
}

// InstanceStateRequest is the body of POST /sim/v1/instances/<id>.
type InstanceStateRequest struct {
	// State is the new state: on AWS pending, running, stopping, stopped,
	// shutting-down or terminated; on Alibaba Running, Stopped, or
	// terminated (the instance is released).
	State string `json:"state"`
}

// SetInstanceState changes an instance's state behind the API's back. On
// AWS a stopped (or stopping, shutting-down) instance's routes turn
// blackhole until it runs again; terminated is final (see RemoveInstance).
func (s *Server) SetInstanceState(id, state string) error {
	return s.w.d.setInstanceState(s, id, state)
}

// setInstanceStateEC2 is SetInstanceState in an AWS world.
func (s *Server) setInstanceStateEC2(id, state string) error {
	if _, ok := ec2StateCodes[state]; !ok {
		return paramError("state", state, "pending, running, stopping, stopped, shutting-down or terminated")
	}
	if state == EC2Terminated {
		return s.terminateAWS(id, false)
	}
	return s.setInstanceStatus(id, state)
}

// setInstanceStatus sets a known instance's status (in the world's terms)
// and rederives its routes' states. A terminated instance stays so.
func (s *Server) setInstanceStatus(id, state string) error {
	s.mu.Lock()
	in := s.w.instance(id)
	var err error
	switch {
	case in == nil:
		err = fmt.Errorf("%w: no instance %q", ErrNotFound, id)
	case in.status == EC2Terminated:
		err = paramError("state", state, "nothing: instance "+id+" is terminated, which is final")
	default:
		in.status = state
		s.w.d.refreshRouteStates(s.w)
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	s.SyncDataplane()
	return nil
}
