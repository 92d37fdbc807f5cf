package sim

import (
	"fmt"
	"slices"
	"time"
)

// The admin operations of an Alibaba world (see ec2_admin.go for AWS):
// route entries behind the API's back and instances.

// putRouteVPC is PutRoute in an Alibaba world: a route entry to a
// destination CIDR, with an optional transient status.
func (s *Server) putRouteVPC(req PutRouteRequest) (Entry, error) {
	dest, aerr := parseDestination(req.Destination)
	if aerr != nil {
		return Entry{}, paramError("destination", req.Destination, "an IPv4 CIDR written as its network address, such as 10.0.0.0/24")
	}
	if !slices.Contains(nextHopTypes, req.NextHopType) {
		return Entry{}, paramError("nextHopType", req.NextHopType, "a next hop type such as Instance or NatGateway")
	}
	if req.NextHopID == "" {
		return Entry{}, paramError("nextHopId", "", "the next hop's ID, such as i-aaa")
	}
	if aerr := checkNameDesc(req.Name, req.Description); aerr != nil {
		return Entry{}, fmt.Errorf("name/description: %s", aerr.Message)
	}
	status, remove := req.Status, false
	switch status {
	case "":
		status = StatusAvailable
	case StatusAvailable, StatusPending, StatusModifying:
	case StatusDeleting:
		remove = true
	default:
		return Entry{}, paramError("status", req.Status, "Available, Pending, Modifying or Deleting")
	}
	s.mu.Lock()
	t := s.w.table(req.Table)
	if t == nil {
		s.mu.Unlock()
		return Entry{}, paramError("table", req.Table, "the ID of a route table of the topology")
	}
	e := t.entryByDest(dest)
	if e != nil && e.system {
		s.mu.Unlock()
		return Entry{}, paramError("destination", req.Destination, "a destination not held by System entry "+e.id)
	}
	if e == nil {
		e = s.w.newEntry(t, &entry{dest: dest, created: time.Now().UTC(), status: StatusAvailable})
	}
	e.hopType, e.hopID, e.name, e.desc = req.NextHopType, req.NextHopID, req.Name, req.Description
	switch {
	case status == StatusAvailable:
		s.finishPut(e)
	case req.Hold:
		s.finishPut(e)
		e.status, e.hold, e.deleteAfter = status, true, remove
	default:
		s.startTransition(e, status, remove)
	}
	v := s.w.entryView(e)
	s.mu.Unlock()
	s.SyncDataplane()
	return v, nil
}

// addInstanceVPC is AddInstance in an Alibaba world.
func (s *Server) addInstanceVPC(spec InstanceSpec) error {
	s.mu.Lock()
	idx := slices.IndexFunc(s.w.instances, func(in *instance) bool { return in.id == spec.ID })
	others := slices.DeleteFunc(slices.Clone(s.w.instances), func(in *instance) bool { return in.id == spec.ID })
	probe := &world{provider: s.w.provider, d: s.w.d, vswitches: s.w.vswitches, instances: others}
	in, err := probe.buildInstance(spec, "instance")
	if err != nil {
		s.mu.Unlock()
		return err
	}
	if idx >= 0 {
		in.created = s.w.instances[idx].created
		s.w.instances[idx] = in
	} else {
		s.w.instances = append(s.w.instances, in)
	}
	s.mu.Unlock()
	s.SyncDataplane()
	return nil
}

// removeInstanceVPC is RemoveInstance in an Alibaba world: the instance is
// released.
func (s *Server) removeInstanceVPC(id string, deleteRoutes bool) error {
	s.mu.Lock()
	idx := slices.IndexFunc(s.w.instances, func(in *instance) bool { return in.id == id })
	if idx < 0 {
		s.mu.Unlock()
		return fmt.Errorf("%w: no instance %q", ErrNotFound, id)
	}
	s.w.instances = slices.Delete(s.w.instances, idx, idx+1)
	if deleteRoutes {
		for _, e := range s.sortedEntries() {
			if e.hopType == NextHopInstance && e.hopID == id {
				s.dropEntry(e)
			}
		}
	}
	s.mu.Unlock()
	s.SyncDataplane()
	return nil
}
