package sim

import (
	"cmp"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// buildENIs builds the ENIs of an AWS instance: the primary one (device
// index 0, the instance's privateIp and MAC) and its networkInterfaces. IDs,
// addresses and MACs must be unique among the world's ENIs, except those of
// replacing (the ENIs of the instance being replaced). A terminated
// instance has none.
func (w *world) buildENIs(in *instance, s InstanceSpec, field string, replacing map[string]bool) ([]*eni, error) {
	if in.status == EC2Terminated {
		if len(s.NetworkInterfaces) > 0 {
			return nil, paramError(field+".networkInterfaces", s.NetworkInterfaces[0].ID, "none on a terminated instance")
		}
		return nil, nil
	}
	primaryID := cmp.Or(s.ENI, awsID("eni", in.id))
	if err := w.checkKindID(field+".eni", primaryID, "eni"); err != nil {
		return nil, err
	}
	sdc := s.SourceDestCheck == nil || *s.SourceDestCheck
	now := time.Now().UTC()
	primary := &eni{id: primaryID, mac: in.mac, subnet: in.vswitch, vpc: in.vpc, ip: in.ip, instance: in.id,
		attachmentID: awsID("eni-attach", primaryID), attached: now, deleteOnTermination: true,
		sourceDestCheck: sdc, tags: map[string]string{}, desc: "Primary network interface"}
	if primary.mac == "" {
		primary.mac = awsMAC(primaryID)
		in.mac = primary.mac
	}
	out := []*eni{primary}
	for i, es := range s.NetworkInterfaces {
		ef := fmt.Sprintf("%s.networkInterfaces[%d]", field, i)
		if err := w.checkKindID(ef+".id", es.ID, "eni"); err != nil {
			return nil, err
		}
		n := &eni{id: es.ID, mac: cmp.Or(es.MAC, awsMAC(es.ID)), subnet: cmp.Or(es.Subnet, in.vswitch), instance: in.id,
			deviceIndex: i + 1, attachmentID: awsID("eni-attach", es.ID), attached: now,
			deleteOnTermination: es.DeleteOnTermination == nil || *es.DeleteOnTermination,
			sourceDestCheck:     es.SourceDestCheck == nil || *es.SourceDestCheck, desc: es.Description, tags: cloneTags(es.Tags)}
		if !macPattern.MatchString(n.mac) {
			return nil, paramError(ef+".mac", es.MAC, "a lower-case MAC such as 02:00:00:00:00:01")
		}
		if err := checkTags(ef+".tags", es.Tags); err != nil {
			return nil, err
		}
		sub := w.vswitch(n.subnet)
		if sub == nil || sub.vpc != in.vpc || sub.zone != w.vswitch(in.vswitch).zone {
			return nil, paramError(ef+".subnet", es.Subnet, "a subnet of VPC "+in.vpc+" in the instance's availability zone")
		}
		n.vpc = sub.vpc
		ip, err := netip.ParseAddr(es.PrivateIP)
		if err != nil || !ip.Is4() || !sub.cidr.Contains(ip) || ip == sub.cidr.Addr() {
			return nil, paramError(ef+".privateIp", es.PrivateIP, "a host address inside subnet "+sub.id+" ("+sub.cidr.String()+")")
		}
		n.ip = ip
		out = append(out, n)
	}
	for i, n := range out {
		for _, o := range out[:i] {
			if o.id == n.id || o.ip == n.ip || o.mac == n.mac {
				return nil, paramError(field+".networkInterfaces", n.id, "ENIs with distinct IDs, addresses and MACs")
			}
		}
		for _, o := range w.enis {
			if replacing[o.id] {
				continue
			}
			switch {
			case o.id == n.id:
				return nil, paramError(field+".eni", n.id, "an ENI ID not used by instance "+cmp.Or(o.instance, "(detached)"))
			case o.ip == n.ip:
				return nil, paramError(field+".privateIp", n.ip.String(), "an address not used by ENI "+o.id)
			case o.mac == n.mac:
				return nil, paramError(field+".mac", n.mac, "a MAC not used by ENI "+o.id)
			}
		}
	}
	return out, nil
}

// compileAWSRoute adds a route of the topology to an AWS table.
func (w *world) compileAWSRoute(tb *table, r RouteSpec, field string) error {
	if r.Name != "" || r.Description != "" {
		return fieldError(field+".name", r.Name, "no name or description: EC2 routes have neither")
	}
	e := &entry{created: w.created, origin: OriginCreateRoute, status: RouteActive}
	switch {
	case r.Destination != "" && r.DestinationPrefixListID != "":
		return fieldError(field+".destinationPrefixListId", r.DestinationPrefixListID, "either destination or destinationPrefixListId, not both")
	case r.DestinationPrefixListID != "":
		if !strings.HasPrefix(r.DestinationPrefixListID, "pl-") {
			return fieldError(field+".destinationPrefixListId", r.DestinationPrefixListID, "a prefix list ID such as pl-6da54004")
		}
		e.prefixList = r.DestinationPrefixListID
	default:
		p, err := netip.ParsePrefix(r.Destination)
		if err != nil || !p.Addr().Is4() || p.Masked() != p {
			return fieldError(field+".destination", r.Destination, "an IPv4 CIDR written as its network address, such as 10.0.0.0/24")
		}
		e.dest = p
	}
	if aerr := w.checkRouteDestination(tb, e.dest, e.prefixList); aerr != nil {
		return fmt.Errorf("topology: %s: %s (%s)", field, aerr.Message, aerr.Code)
	}
	if _, ok := ec2TargetByHop(r.NextHopType); !ok {
		return fieldError(field+".nextHopType", r.NextHopType, "one of "+strings.Join(ec2HopTypes(), ", "))
	}
	if r.NextHopID == "" {
		return fieldError(field+".nextHopId", "", "the target's ID, such as igw-0123 or eni-0123")
	}
	e.hopType, e.hopID = r.NextHopType, r.NextHopID
	switch r.NextHopType {
	case NextHopInstance, HopNetworkInterface:
		if r.State != "" {
			return fieldError(field+".state", r.State, "no state: an ENI route's state follows its target")
		}
		// The target may be missing: the route starts as a blackhole.
		if aerr := w.bindTarget(tb, e, true); aerr != nil {
			return fmt.Errorf("topology: %s: %s (%s)", field, aerr.Message, aerr.Code)
		}
	default:
		switch r.State {
		case "", RouteActive:
		case RouteBlackhole:
			e.status = RouteBlackhole
		default:
			return fieldError(field+".state", r.State, "active or blackhole")
		}
	}
	w.newEntry(tb, e)
	return nil
}

// checkRouteDestination applies EC2's destination rules to a new route of
// table t: unique in the table (RouteAlreadyExists), and not equal to or
// inside a CIDR of the VPC (the local routes own those).
func (w *world) checkRouteDestination(t *table, dest netip.Prefix, prefixList string) *apiError {
	if prefixList != "" {
		if t.entryByPrefixList(prefixList) != nil {
			return ec2Err(CodeRouteAlreadyExists, "The route identified by %s already exists.", prefixList)
		}
		return nil
	}
	if t.entryByDest(dest) != nil {
		return ec2Err(CodeRouteAlreadyExists, "The route identified by %s already exists.", dest)
	}
	for _, c := range w.vpc(t.vpc).cidrs() {
		if c.Bits() <= dest.Bits() && c.Contains(dest.Addr()) {
			return ec2Err(CodeInvalidParameterValue,
				"The destination CIDR block %s is equal to or more specific than one of this VPC's CIDR blocks (%s); vpcroute-sim refuses it.", dest, c)
		}
	}
	return nil
}

// bindTarget resolves the ENI of an Instance or NetworkInterface route. A
// lenient bind (topology, admin API) accepts a missing target, which makes
// a blackhole route; the API refuses it with EC2's codes. An instance with
// more than one ENI is refused either way, as EC2 does.
func (w *world) bindTarget(t *table, e *entry, lenient bool) *apiError {
	switch e.hopType {
	case NextHopInstance:
		in := w.instance(e.hopID)
		e.instRef, e.eni = e.hopID, ""
		if in == nil || in.status == EC2Terminated {
			if lenient {
				return nil
			}
			return ec2Err(CodeEC2InstanceNotFound, "The instance ID '%s' does not exist", e.hopID)
		}
		if in.vpc != t.vpc {
			return ec2Err(CodeInvalidParameterValue, "route table %s and instance %s belong to different networks", t.id, in.id)
		}
		enis := w.enisOf(in.id)
		if len(enis) > 1 {
			return ec2Err(CodeInvalidInstanceID,
				"There are multiple interfaces attached to instance '%s'. Please specify an interface ID for the operation instead.", in.id)
		}
		if len(enis) == 1 {
			e.eni = enis[0].id
		}
	case HopNetworkInterface:
		n := w.eni(e.hopID)
		e.eni, e.instRef = e.hopID, ""
		if n == nil {
			if lenient {
				return nil
			}
			return ec2Err(CodeENINotFound, "The networkInterface ID '%s' does not exist", e.hopID)
		}
		if n.vpc != t.vpc {
			return ec2Err(CodeInvalidParameterValue, "route table %s and network interface %s belong to different networks", t.id, n.id)
		}
		e.instRef = n.instance
	default:
		e.eni, e.instRef = "", ""
	}
	return nil
}
