package sim

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Table is a route table as the admin API shows it.
type Table struct {
	ID    string `json:"id"`
	VPCID string `json:"vpcId"`
	// Type is System (on AWS the main table) or Custom.
	Type      string   `json:"type"`
	Name      string   `json:"name,omitempty"`
	VSwitches []string `json:"vswitches"`
	Entries   []Entry  `json:"entries"`
	// Tags are the table's tags (AWS).
	Tags map[string]string `json:"tags,omitempty"`
}

// Entry is a route entry as the admin API shows it.
type Entry struct {
	ID          string `json:"id"`
	TableID     string `json:"tableId"`
	Destination string `json:"destination"`
	// Type is System or Custom.
	Type        string `json:"type"`
	Status      string `json:"status"`
	NextHopType string `json:"nextHopType"`
	NextHopID   string `json:"nextHopId"`
	Name        string `json:"name"`
	Description string `json:"description"`
	// Hold is true for a transient status set by PutRoute that does not end
	// by itself.
	Hold bool `json:"hold,omitempty"`
	// AWS routes: the prefix list of a route without a destination CIDR
	// (Destination then holds the same ID), the origin (CreateRouteTable or
	// CreateRoute), and for ENI and instance targets the ENI and the
	// instance as DescribeRouteTables shows them.
	DestinationPrefixListID string `json:"destinationPrefixListId,omitempty"`
	Origin                  string `json:"origin,omitempty"`
	InstanceID              string `json:"instanceId,omitempty"`
	NetworkInterfaceID      string `json:"networkInterfaceId,omitempty"`
}

// PutRouteRequest places an entry behind the API's back: no busy-VPC,
// quota, vswitch or next hop checks (a next hop may name a missing
// instance), so tests can set up unowned, stale or stuck entries.
type PutRouteRequest struct {
	Table       string `json:"table"`
	Destination string `json:"destination"`
	NextHopType string `json:"nextHopType"`
	NextHopID   string `json:"nextHopId"`
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
	// Status is Available (default), Pending, Modifying or Deleting. A
	// transient status ends after the pending delay unless Hold is set.
	Status string `json:"status,omitempty"`
	Hold   bool   `json:"hold,omitempty"`
}

// Routes returns every table with its entries, in creation order.
func (s *Server) Routes() []Table {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Table, 0, len(s.w.tables))
	for _, t := range s.w.tables {
		tv := Table{ID: t.id, VPCID: t.vpc, Type: t.typ, Name: t.name, VSwitches: append([]string{}, t.vswitches...), Entries: []Entry{}}
		if s.w.aws() {
			tv.Tags = cloneTags(t.tags)
		}
		for _, e := range t.entries {
			tv.Entries = append(tv.Entries, s.w.entryView(e))
		}
		out = append(out, tv)
	}
	return out
}

// entryView renders an entry for the admin API. Callers hold s.mu.
func (w *world) entryView(e *entry) Entry {
	typ := EntryTypeCustom
	if e.system {
		typ = EntryTypeSystem
	}
	v := Entry{ID: e.id, TableID: e.table, Destination: e.destKey(), Type: typ, Status: e.status,
		NextHopType: e.hopType, NextHopID: e.hopID, Name: e.name, Description: e.desc, Hold: e.hold,
		DestinationPrefixListID: e.prefixList, Origin: e.origin}
	if e.hopType == NextHopInstance || e.hopType == HopNetworkInterface {
		if w.aws() {
			v.NetworkInterfaceID, v.InstanceID = e.eni, w.routeInstance(e)
		}
	}
	return v
}

// PutRoute creates or replaces (by destination) a custom entry.
func (s *Server) PutRoute(req PutRouteRequest) (Entry, error) {
	if s.provider() == ProviderAWS {
		return s.putRouteAWS(req)
	}
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

// finishPut makes e Available at once, dropping any transition in flight.
// Callers hold s.mu.
func (s *Server) finishPut(e *entry) {
	e.deleteAfter, e.hold = false, false
	s.finish(e)
}

// DeleteRoute removes a custom entry at once, behind the API's back. On AWS
// the destination may be a prefix list ID (pl-...).
func (s *Server) DeleteRoute(tableID, destination string) error {
	if s.provider() == ProviderAWS && strings.HasPrefix(destination, "pl-") {
		return s.deleteRouteAWS(tableID, destination)
	}
	dest, aerr := parseDestination(destination)
	if aerr != nil {
		return paramError("destination", destination, "an IPv4 CIDR such as 10.1.0.0/24")
	}
	s.mu.Lock()
	t := s.w.table(tableID)
	if t == nil {
		s.mu.Unlock()
		return paramError("table", tableID, "the ID of a route table of the topology")
	}
	e := t.entryByDest(dest)
	switch {
	case e == nil:
		s.mu.Unlock()
		return fmt.Errorf("%w: no entry for %s in route table %s", ErrNotFound, dest, tableID)
	case e.system:
		s.mu.Unlock()
		return paramError("destination", destination, "a custom entry; "+e.id+" is a System entry")
	}
	if tm := s.timers[e.id]; tm != nil {
		tm.Stop()
		delete(s.timers, e.id)
	}
	s.w.removeEntry(e)
	s.mu.Unlock()
	s.SyncDataplane()
	return nil
}

// Instances returns the instances of the world.
func (s *Server) Instances() []InstanceSpec {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]InstanceSpec, 0, len(s.w.instances))
	for _, in := range s.w.instances {
		if s.w.aws() {
			out = append(out, s.w.awsInstanceSpec(in))
			continue
		}
		out = append(out, InstanceSpec{ID: in.id, PrivateIP: in.ip.String(), VSwitch: in.vswitch, RAMRole: in.ramRole,
			Status: in.status, MAC: in.mac, Name: in.name})
	}
	return out
}

// AddInstance adds an instance, or replaces the one with the same ID (to
// stop it, start it or move it). On AWS the instance's ENIs are rebuilt;
// ENIs keeping their IDs keep their routes and, unless the spec says
// otherwise, their source/destination check.
func (s *Server) AddInstance(spec InstanceSpec) error {
	if s.provider() == ProviderAWS {
		return s.addInstanceAWS(spec)
	}
	s.mu.Lock()
	idx := slices.IndexFunc(s.w.instances, func(in *instance) bool { return in.id == spec.ID })
	others := slices.DeleteFunc(slices.Clone(s.w.instances), func(in *instance) bool { return in.id == spec.ID })
	probe := &world{vswitches: s.w.vswitches, instances: others}
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

// RemoveInstance terminates an instance: DescribeInstances and the metadata
// service no longer know it. Its route entries stay (stale, as a reconciler
// must find and delete them) unless deleteRoutes is set; either way the data
// plane drops their kernel routes.
//
// On AWS the instance is terminated instead: DescribeInstances lists it as
// terminated, its ENIs with DeleteOnTermination are deleted (the others
// detached) and the routes targeting them turn blackhole (or go, with
// deleteRoutes). A terminated instance removed again is forgotten.
func (s *Server) RemoveInstance(id string, deleteRoutes bool) error {
	if s.provider() == ProviderAWS {
		return s.terminateAWS(id, deleteRoutes)
	}
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
				if tm := s.timers[e.id]; tm != nil {
					tm.Stop()
					delete(s.timers, e.id)
				}
				s.w.removeEntry(e)
			}
		}
	}
	s.mu.Unlock()
	s.SyncDataplane()
	return nil
}
