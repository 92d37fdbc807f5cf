package sim

import (
	"net/netip"
	"strings"
	"time"
)

// CreateRoute, ReplaceRoute and DeleteRoute. EC2 route changes are
// synchronous: a created or replaced route is in effect (active, or
// blackhole when its target is down) when the call returns, and EC2 does
// not refuse concurrent changes as Alibaba does.

// tableParam resolves RouteTableId. Callers hold s.mu.
func (s *Server) tableParam(p params) (*table, *apiError) {
	id := p.Get("RouteTableId")
	if id == "" {
		return nil, ec2Missing("routeTableId")
	}
	if !strings.HasPrefix(id, "rtb-") {
		return nil, ec2Err("InvalidRouteTableId.Malformed", "Invalid id: %q (expecting \"rtb-...\")", id)
	}
	t := s.w.table(id)
	if t == nil {
		return nil, ec2Err(CodeRouteTableNotFound, "The routeTable ID '%s' does not exist", id)
	}
	return t, nil
}

// destParam reads the route's destination: a CIDR or a prefix list.
func destParam(p params) (dest netip.Prefix, prefixList, shown string, aerr *apiError) {
	cidr, pl, v6 := p.Get("DestinationCidrBlock"), p.Get("DestinationPrefixListId"), p.Get("DestinationIpv6CidrBlock")
	n := 0
	for _, v := range []string{cidr, pl, v6} {
		if v != "" {
			n++
		}
	}
	switch {
	case n == 0:
		return dest, "", "", ec2Err(CodeMissingParameter,
			"The request must contain the parameter destinationCidrBlock or destinationIpv6CidrBlock or destinationPrefixListId")
	case n > 1:
		return dest, "", "", ec2Err(CodeInvalidParameterCombination,
			"Only one of destinationCidrBlock, destinationIpv6CidrBlock and destinationPrefixListId may be given")
	case v6 != "":
		return dest, "", "", ec2Invalid("destinationIpv6CidrBlock", v6, "an IPv4 destinationCidrBlock: vpcroute-sim simulates no IPv6")
	case pl != "":
		if !strings.HasPrefix(pl, "pl-") {
			return dest, "", "", ec2Invalid("destinationPrefixListId", pl, "a prefix list ID such as pl-6da54004")
		}
		return dest, pl, pl, nil
	}
	d, err := netip.ParsePrefix(cidr)
	if err != nil || !d.Addr().Is4() || d.Masked() != d {
		return dest, "", "", ec2Err(CodeInvalidParameterValue,
			"Value (%s) for parameter destinationCidrBlock is invalid. This is not a valid CIDR block.", cidr)
	}
	return d, "", cidr, nil
}

// targetParam reads the one target of a route into e (hopType, hopID).
func targetParam(p params, e *entry) *apiError {
	var given []string
	for _, t := range ec2Targets {
		if v := p.Get(t.param); v != "" {
			given = append(given, t.param)
			e.hopType, e.hopID = t.hopType, v
		}
	}
	switch len(given) {
	case 0:
		names := collect(ec2Targets, func(t ec2Target) string { return t.param })
		return ec2Err(CodeMissingParameter, "The request must contain exactly one target: one of %s", strings.Join(names, ", "))
	case 1:
		return nil
	}
	return ec2Err(CodeInvalidParameterCombination, "The parameters %s cannot be combined: a route has exactly one target", strings.Join(given, ", "))
}

// tableAndTarget reads the request's route table and its one target into
// e, bound to the world's resource (the caller holds s.mu).
func (s *Server) tableAndTarget(p params, e *entry) (*table, *apiError) {
	if aerr := targetParam(p, e); aerr != nil {
		return nil, aerr
	}
	t, aerr := s.tableParam(p)
	if aerr != nil {
		return nil, aerr
	}
	if aerr := s.w.bindTarget(t, e, false); aerr != nil {
		return nil, aerr
	}
	return t, nil
}

func (s *Server) ec2CreateRoute(p params) (any, *apiError) {
	dest, pl, _, aerr := destParam(p)
	if aerr != nil {
		return nil, aerr
	}
	e := &entry{dest: dest, prefixList: pl, origin: OriginCreateRoute, status: RouteActive, created: time.Now().UTC()}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, aerr := s.tableAndTarget(p, e)
	if aerr != nil {
		return nil, aerr
	}
	if aerr := s.w.checkRouteDestination(t, dest, pl); aerr != nil {
		return nil, aerr
	}
	if n := t.customCount(); n >= s.beh.quota {
		// EC2's documented text: it names neither the table nor the limit.
		return nil, ec2Err(CodeRouteLimitExceeded, "You've reached the limit on the number of routes that you can add to a route table.")
	}
	s.w.newEntry(t, e)
	s.w.refreshRouteStates()
	return trueResponse("CreateRoute"), nil
}

// findRoute finds the route of t with the request's destination.
func findRoute(t *table, dest netip.Prefix, pl string) *entry {
	if pl != "" {
		return t.entryByPrefixList(pl)
	}
	return t.entryByDest(dest)
}

func (s *Server) ec2ReplaceRoute(p params) (any, *apiError) {
	dest, pl, shown, aerr := destParam(p)
	if aerr != nil {
		return nil, aerr
	}
	if p.Get("LocalTarget") != "" {
		return nil, ec2Invalid("LocalTarget", p.Get("LocalTarget"), "no LocalTarget: vpcroute-sim simulates no middlebox routing")
	}
	next := &entry{}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, aerr := s.tableAndTarget(p, next)
	if aerr != nil {
		return nil, aerr
	}
	e := findRoute(t, dest, pl)
	if e == nil {
		return nil, ec2Err(CodeInvalidParameterValue, "There is no route defined for '%s' in the route table. Use CreateRoute instead.", shown)
	}
	if e.system {
		return nil, ec2Err(CodeInvalidParameterValue, "cannot replace local route %s in route table %s", shown, t.id)
	}
	// One call, one change: the route never exists without a target.
	e.hopType, e.hopID, e.eni, e.instRef = next.hopType, next.hopID, next.eni, next.instRef
	e.status, e.modified, e.origin = RouteActive, time.Now().UTC(), OriginCreateRoute
	s.w.refreshRouteStates()
	return trueResponse("ReplaceRoute"), nil
}

func (s *Server) ec2DeleteRoute(p params) (any, *apiError) {
	dest, pl, shown, aerr := destParam(p)
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, aerr := s.tableParam(p)
	if aerr != nil {
		return nil, aerr
	}
	e := findRoute(t, dest, pl)
	switch {
	case e == nil:
		field := "destination-cidr-block"
		if pl != "" {
			field = "destination-prefix-list-id"
		}
		return nil, ec2Err(CodeRouteNotFound, "no route with %s %s in route table %s", field, shown, t.id)
	case e.system:
		return nil, ec2Err(CodeInvalidParameterValue, "cannot remove local route %s in route table %s", shown, t.id)
	}
	s.w.removeEntry(e)
	return trueResponse("DeleteRoute"), nil
}
