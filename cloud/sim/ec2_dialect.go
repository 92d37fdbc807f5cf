package sim

import (
	"net/http"
	"net/netip"
	"strings"
)

// ec2Dialect is AWS: the EC2 Query API and IMDSv2; synchronous route
// changes whose state (active, blackhole) follows the target ENI;
// addresses owned by ENIs; prefixed resource IDs and an account.
type ec2Dialect struct{}

func (ec2Dialect) name() string { return ProviderAWS }

func (ec2Dialect) defaultTopology() Topology { return DefaultAWSTopology() }

func (ec2Dialect) serveAPI(s *Server, w http.ResponseWriter, r *http.Request) {
	s.serveEC2(w, r)
}

func (ec2Dialect) serveMetadata(s *Server, w http.ResponseWriter, r *http.Request, id, path string) {
	s.serveIMDS(w, r, id, path)
}

func (ec2Dialect) checkFaultAction(field, action string) error {
	if ec2ActionClass(action) == classOther {
		return paramError(field, action, "an EC2 action such as CreateRoute, or * for every action")
	}
	return nil
}

func (ec2Dialect) defaultQuota() int { return DefaultAWSQuota }

func (ec2Dialect) stsIDs(idPart, token string) (string, string) {
	return "ASIASIM" + strings.ToUpper(idPart[:13]), "IQoJsim" + token
}

func (ec2Dialect) account(given string) (string, error) {
	account := given
	if account == "" {
		account = DefaultAccountID
	}
	if !accountPattern.MatchString(account) {
		return "", fieldError("accountId", given, "a 12-digit AWS account ID")
	}
	return account, nil
}

func (ec2Dialect) idPrefix(kind string) string { return awsPrefixes[kind] }

func (ec2Dialect) checkInstanceSpec(InstanceSpec, string) error { return nil }

// addressesOnInstances: addresses belong to ENIs; buildENIs checks them.
func (ec2Dialect) addressesOnInstances() bool { return false }

func (ec2Dialect) instanceStatus(in *instance, field, given string) error {
	if in.status == "" {
		in.status = EC2Running
	}
	if _, ok := ec2StateCodes[in.status]; !ok {
		return paramError(field+".status", given, "pending, running, stopping, stopped, shutting-down or terminated")
	}
	return nil
}

// defaultMAC: an instance's MAC is its ENIs'.
func (ec2Dialect) defaultMAC(string) string { return "" }

func (ec2Dialect) instanceENIs(w *world, in *instance, s InstanceSpec, field string) ([]*eni, error) {
	return w.buildENIs(in, s, field, nil)
}

func (ec2Dialect) checkTableTags(string, string, map[string]string) error { return nil }

// defaultTableType: a table is the main one only when it says so.
func (ec2Dialect) defaultTableType(main bool) string {
	if main {
		return TableTypeSystem
	}
	return TableTypeCustom
}

func (ec2Dialect) mainTableID(vpcID string) string {
	return "rtb-" + strings.TrimPrefix(vpcID, "vpc-")
}

// systemEntries: the local route of every VPC CIDR.
func (ec2Dialect) systemEntries(w *world, t *table) {
	v := w.vpc(t.vpc)
	for _, c := range append([]netip.Prefix{v.cidr}, v.secondary...) {
		w.newEntry(t, &entry{dest: c, system: true, hopType: NextHopLocal, hopID: NextHopLocal,
			status: RouteActive, origin: OriginCreateRouteTable, created: w.created})
	}
}

func (ec2Dialect) compileRoute(w *world, tb *table, r RouteSpec, field string) error {
	return w.compileAWSRoute(tb, r, field)
}

func (ec2Dialect) refreshRouteStates(w *world) { w.refreshRouteStates() }

// transitions: EC2 route changes are synchronous.
func (ec2Dialect) transitions() bool { return false }

// instanceByIP: the instance an ENI with that address is attached to.
func (ec2Dialect) instanceByIP(w *world, ip netip.Addr) *instance {
	for _, n := range w.enis {
		if n.ip == ip && n.instance != "" {
			return w.instance(n.instance)
		}
	}
	return nil
}

// kernelRoutes: every active route to an ENI, via the ENI's private IP.
func (ec2Dialect) kernelRoutes(s *Server) map[netip.Prefix]netip.Addr {
	want := map[netip.Prefix]netip.Addr{}
	for _, e := range s.sortedEntries() {
		if e.system || e.eni == "" || e.prefixList != "" || e.status != RouteActive {
			continue
		}
		if n := s.w.eni(e.eni); n != nil {
			want[e.dest] = n.ip
		}
	}
	return want
}

func (ec2Dialect) viewTable(t *table, v *Table) { v.Tags = cloneTags(t.tags) }

// viewEntry: the ENI and instance of a route to either, as
// DescribeRouteTables shows them.
func (ec2Dialect) viewEntry(w *world, e *entry, v *Entry) {
	if e.hopType == NextHopInstance || e.hopType == HopNetworkInterface {
		v.NetworkInterfaceID, v.InstanceID = e.eni, w.routeInstance(e)
	}
}

func (ec2Dialect) viewInstance(w *world, in *instance) InstanceSpec { return w.awsInstanceSpec(in) }

func (ec2Dialect) putRoute(s *Server, req PutRouteRequest) (Entry, error) {
	return s.putRouteAWS(req)
}

// deleteRoute also takes a prefix list ID (pl-...) as the destination.
func (ec2Dialect) deleteRoute(s *Server, tableID, destination string) error {
	if strings.HasPrefix(destination, "pl-") {
		return s.deleteRouteAWS(tableID, destination)
	}
	return s.deleteRouteByCIDR(tableID, destination)
}

func (ec2Dialect) addInstance(s *Server, spec InstanceSpec) error {
	return s.addInstanceAWS(spec)
}

// removeInstance terminates the instance.
func (ec2Dialect) removeInstance(s *Server, id string, deleteRoutes bool) error {
	return s.terminateAWS(id, deleteRoutes)
}

func (ec2Dialect) setInstanceState(s *Server, id, state string) error {
	return s.setInstanceStateEC2(id, state)
}
