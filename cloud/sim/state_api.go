package sim

import "fmt"

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
		s.w.d.viewTable(t, &tv)
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
	w.d.viewEntry(w, e, &v)
	return v
}

// PutRoute creates or replaces (by destination) a custom entry.
func (s *Server) PutRoute(req PutRouteRequest) (Entry, error) {
	return s.w.d.putRoute(s, req)
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
	return s.w.d.deleteRoute(s, tableID, destination)
}

// deleteRouteByCIDR is DeleteRoute for a destination CIDR.
func (s *Server) deleteRouteByCIDR(tableID, destination string) error {
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
	s.dropEntry(e)
	s.mu.Unlock()
	s.SyncDataplane()
	return nil
}

// dropEntry removes an entry at once, with any transition in flight.
// Callers hold s.mu.
func (s *Server) dropEntry(e *entry) {
	if tm := s.timers[e.id]; tm != nil {
		tm.Stop()
		delete(s.timers, e.id)
	}
	s.w.removeEntry(e)
}

// Instances returns the instances of the world.
func (s *Server) Instances() []InstanceSpec {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]InstanceSpec, 0, len(s.w.instances))
	for _, in := range s.w.instances {
		out = append(out, s.w.d.viewInstance(s.w, in))
	}
	return out
}

// AddInstance adds an instance, or replaces the one with the same ID (to
// stop it, start it or move it). On AWS the instance's ENIs are rebuilt;
// ENIs keeping their IDs keep their routes and, unless the spec says
// otherwise, their source/destination check.
func (s *Server) AddInstance(spec InstanceSpec) error {
	return s.w.d.addInstance(s, spec)
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
	return s.w.d.removeInstance(s, id, deleteRoutes)
}
