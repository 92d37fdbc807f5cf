package sim

import (
	"net/http"
	"net/netip"
	"strings"
)

// dialect is everything in which one simulated cloud differs from another:
// how its API and metadata service are served, how a topology's IDs,
// instances, tables and routes are read, what its routes look like
// (transient statuses or derived states), the admin view of them, and its
// defaults. Everything else (the world's VPCs, tables and entries, faults,
// throttling, the data plane) is shared and asks the world's dialect.
//
// Each cloud has one implementation in its own file (aliyun_dialect.go,
// ec2_dialect.go), registered in dialects; a world picks its dialect once,
// from Topology.Provider, in compile.
type dialect interface {
	// name is the Topology.Provider value that selects the dialect.
	name() string
	// defaultTopology is the lab's world in this cloud.
	defaultTopology() Topology

	// serveAPI answers a cloud API call (anything but /sim/v1/ and
	// /latest/).
	serveAPI(s *Server, w http.ResponseWriter, r *http.Request)
	// serveMetadata answers a metadata path (starting with /latest/) for
	// instance id.
	serveMetadata(s *Server, w http.ResponseWriter, r *http.Request, id, path string)
	// checkFaultAction validates a fault rule's action (neither "" nor
	// "*"): an action the API serves.
	checkFaultAction(field, action string) error
	// defaultQuota is the custom route limit per table when the topology
	// sets none.
	defaultQuota() int
	// stsIDs shapes a minted role credential's key ID and token from random
	// parts.
	stsIDs(idPart, token string) (id, tok string)

	// account validates Topology.AccountID and returns the world's
	// account.
	account(given string) (string, error)
	// idPrefix is the prefix an ID of this kind (vpc, subnet, instance,
	// table, ...) must carry; "" for none.
	idPrefix(kind string) string
	// checkInstanceSpec refuses the instance fields the cloud does not
	// have.
	checkInstanceSpec(s InstanceSpec, field string) error
	// addressesOnInstances reports whether an instance's private IP is its
	// own, unique among instances; otherwise addresses belong to network
	// interfaces, which check them.
	addressesOnInstances() bool
	// instanceStatus validates in.status (given is the spec's value, for
	// the error) and sets the default.
	instanceStatus(in *instance, field, given string) error
	// defaultMAC is the MAC of an instance whose spec gives none ("" to
	// leave it empty).
	defaultMAC(id string) string
	// instanceENIs builds the network interfaces of a topology instance.
	instanceENIs(w *world, in *instance, s InstanceSpec, field string) ([]*eni, error)
	// checkTableTags refuses route table tags where the cloud has none.
	checkTableTags(field, id string, tags map[string]string) error
	// defaultTableType is the type of a topology table without one.
	defaultTableType(main bool) string
	// mainTableID is the ID of the System table made for a VPC without
	// one.
	mainTableID(vpcID string) string
	// systemEntries adds the System entries of a new table.
	systemEntries(w *world, t *table)
	// compileRoute adds a topology route to a table.
	compileRoute(w *world, tb *table, r RouteSpec, field string) error
	// refreshRouteStates rederives route states from their targets after
	// instances changed.
	refreshRouteStates(w *world)

	// transitions reports whether route changes pass through transient
	// statuses (Pending, Modifying, Deleting) that make the VPC busy and
	// that Settle ends; otherwise they take effect at once.
	transitions() bool
	// instanceByIP finds the instance holding a private IP.
	instanceByIP(w *world, ip netip.Addr) *instance
	// kernelRoutes is the data plane's desired state (see
	// Server.kernelRoutes). Callers hold s.mu.
	kernelRoutes(s *Server) map[netip.Prefix]netip.Addr

	// viewTable and viewEntry add the cloud's fields to the admin view of
	// a table and an entry. Callers hold s.mu.
	viewTable(t *table, v *Table)
	viewEntry(w *world, e *entry, v *Entry)
	// viewInstance renders an instance for the admin API. Callers hold
	// s.mu.
	viewInstance(w *world, in *instance) InstanceSpec
	// putRoute, deleteRoute, addInstance, removeInstance and
	// setInstanceState are the admin operations of the same names on
	// Server.
	putRoute(s *Server, req PutRouteRequest) (Entry, error)
	deleteRoute(s *Server, tableID, destination string) error
	addInstance(s *Server, spec InstanceSpec) error
	removeInstance(s *Server, id string, deleteRoutes bool) error
	setInstanceState(s *Server, id, state string) error
}

// dialects are the clouds a world can speak; the first is the default of
// a topology without provider.
var dialects = []dialect{aliyunDialect{}, ec2Dialect{}}

// dialectFor returns the dialect of a provider name ("" for the default).
func dialectFor(provider string) (dialect, bool) {
	if provider == "" {
		return dialects[0], true
	}
	for _, d := range dialects {
		if d.name() == provider {
			return d, true
		}
	}
	return nil, false
}

// dialectNames lists the provider names for an error message ("aliyun or
// aws"), the default marked when markDefault is set.
func dialectNames(markDefault bool) string {
	names := make([]string, len(dialects))
	for i, d := range dialects {
		names[i] = d.name()
		if i == 0 && markDefault {
			names[i] += " (default)"
		}
	}
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
