package sim

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// aliyunDialect is Alibaba Cloud: the VPC and ECS RPC APIs and the ECS
// metadata service; route entries to instances that pass through Pending,
// Modifying and Deleting; instances owning their private IPs.
type aliyunDialect struct{}

func (aliyunDialect) name() string { return ProviderAliyun }

func (aliyunDialect) defaultTopology() Topology { return DefaultTopology() }

func (aliyunDialect) serveAPI(s *Server, w http.ResponseWriter, r *http.Request) {
	s.serveRPC(w, r)
}

func (aliyunDialect) serveMetadata(s *Server, w http.ResponseWriter, r *http.Request, id, path string) {
	s.serveECSMetadata(w, r, id, path)
}

func (aliyunDialect) checkFaultAction(field, action string) error {
	if actionClass(action) == classOther {
		return paramError(field, action, "an RPC action such as CreateRouteEntry, or * for every action")
	}
	return nil
}

func (aliyunDialect) defaultQuota() int { return DefaultQuota }

func (aliyunDialect) stsIDs(idPart, token string) (string, string) {
	return "STS.sim" + idPart, "CAIS" + token
}

func (aliyunDialect) account(given string) (string, error) {
	if given != "" {
		return "", fieldError("accountId", given, "no accountId: it is for provider aws")
	}
	return "", nil
}

func (aliyunDialect) idPrefix(string) string { return "" }

func (aliyunDialect) checkInstanceSpec(s InstanceSpec, field string) error {
	if s.ENI != "" || s.SourceDestCheck != nil || len(s.NetworkInterfaces) > 0 || s.InstanceType != "" || len(s.Tags) > 0 {
		return paramError(field, s.ID, "no eni, sourceDestCheck, networkInterfaces, instanceType or tags: they are for provider aws")
	}
	return nil
}

func (aliyunDialect) addressesOnInstances() bool { return true }

func (aliyunDialect) instanceStatus(in *instance, field, given string) error {
	switch in.status {
	case "":
		in.status = InstanceRunning
	case InstanceRunning, InstanceStopped:
	default:
		return paramError(field+".status", given, "Running or Stopped")
	}
	return nil
}

func (aliyunDialect) defaultMAC(id string) string { return defaultMAC(id) }

func (aliyunDialect) instanceENIs(*world, *instance, InstanceSpec, string) ([]*eni, error) {
	return nil, nil
}

func (aliyunDialect) checkTableTags(field, id string, tags map[string]string) error {
	if len(tags) > 0 {
		return fieldError(field, id, "no tags: route table tags are for provider aws")
	}
	return nil
}

// defaultTableType: a table without a type is the VPC's System table.
func (aliyunDialect) defaultTableType(bool) string { return TableTypeSystem }

func (aliyunDialect) mainTableID(vpcID string) string {
	return "vtb-" + strings.TrimPrefix(vpcID, "vpc-")
}

// systemEntries: one per vswitch CIDR of the VPC and one for the cloud
// service range.
func (aliyunDialect) systemEntries(w *world, t *table) {
	for _, v := range w.vswitchesOf(t.vpc) {
		w.newEntry(t, &entry{dest: v.cidr, system: true, hopType: NextHopLocal,
			status: StatusAvailable, created: w.created, desc: "vswitch " + v.id})
	}
	w.newEntry(t, &entry{dest: cloudServiceRange, system: true, hopType: "service",
		status: StatusAvailable, created: w.created, desc: "cloud service"})
}

func (aliyunDialect) compileRoute(w *world, tb *table, r RouteSpec, field string) error {
	if r.DestinationPrefixListID != "" || r.State != "" {
		return fieldError(field+".destinationPrefixListId", r.DestinationPrefixListID, "no destinationPrefixListId or state: they are for provider aws")
	}
	dest, aerr := parseDestination(r.Destination)
	if aerr != nil {
		return fieldError(field+".destination", r.Destination, "an IPv4 CIDR written as its network address, such as 10.0.0.0/24")
	}
	if aerr := w.checkNewEntry(tb, dest, r.NextHopType, r.NextHopID); aerr != nil {
		return fmt.Errorf("topology: %s: %s (%s)", field, aerr.Message, aerr.Code)
	}
	if aerr := checkNameDesc(r.Name, r.Description); aerr != nil {
		return fmt.Errorf("topology: %s: %s (%s)", field, aerr.Message, aerr.Code)
	}
	w.newEntry(tb, &entry{dest: dest, hopType: r.NextHopType, hopID: r.NextHopID, name: r.Name,
		desc: r.Description, status: StatusAvailable, created: w.created})
	return nil
}

// refreshRouteStates: an entry's status is its own, whatever its
// instance does.
func (aliyunDialect) refreshRouteStates(*world) {}

func (aliyunDialect) transitions() bool { return true }

func (aliyunDialect) instanceByIP(w *world, ip netip.Addr) *instance {
	for _, in := range w.instances {
		if in.ip == ip {
			return in
		}
	}
	return nil
}

// kernelRoutes: every custom Instance entry that forwards traffic (all but
// Pending ones: a Deleting entry still forwards until it is gone) whose
// instance exists, via the instance's private IP.
func (aliyunDialect) kernelRoutes(s *Server) map[netip.Prefix]netip.Addr {
	want := map[netip.Prefix]netip.Addr{}
	for _, e := range s.sortedEntries() {
		if e.system || e.hopType != NextHopInstance || e.status == StatusPending {
			continue
		}
		if in := s.w.instance(e.hopID); in != nil {
			want[e.dest] = in.ip
		}
	}
	return want
}

func (aliyunDialect) viewTable(*table, *Table) {}

func (aliyunDialect) viewEntry(*world, *entry, *Entry) {}

func (aliyunDialect) viewInstance(_ *world, in *instance) InstanceSpec {
	return InstanceSpec{ID: in.id, PrivateIP: in.ip.String(), VSwitch: in.vswitch, RAMRole: in.ramRole,
		Status: in.status, MAC: in.mac, Name: in.name}
}

func (aliyunDialect) putRoute(s *Server, req PutRouteRequest) (Entry, error) {
	return s.putRouteVPC(req)
}

func (aliyunDialect) deleteRoute(s *Server, tableID, destination string) error {
	return s.deleteRouteByCIDR(tableID, destination)
}

func (aliyunDialect) addInstance(s *Server, spec InstanceSpec) error {
	return s.addInstanceVPC(spec)
}

func (aliyunDialect) removeInstance(s *Server, id string, deleteRoutes bool) error {
	return s.removeInstanceVPC(id, deleteRoutes)
}

// setInstanceState takes Running and Stopped in any case; terminated (or
// released) releases the instance.
func (aliyunDialect) setInstanceState(s *Server, id, state string) error {
	switch strings.ToLower(state) {
	case "running":
		state = InstanceRunning
	case "stopped":
		state = InstanceStopped
	case "terminated", "released":
		return s.RemoveInstance(id, false)
	default:
		return paramError("state", state, "Running, Stopped or terminated")
	}
	return s.setInstanceStatus(id, state)
}
