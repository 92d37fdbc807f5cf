package sim

import (
	"cmp"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"
)

// idPattern keeps IDs usable in URL paths and log lines.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

var macPattern = regexp.MustCompile(`^([0-9a-f]{2}:){5}[0-9a-f]{2}$`)

var accountPattern = regexp.MustCompile(`^[0-9]{12}$`)

// paramError is the one-line form of every input problem: the field, the
// value and what is expected.
func paramError(field, value, expected string) error {
	return fmt.Errorf("%s=%q: expected %s", field, value, expected)
}

// fieldError is paramError for a topology field.
func fieldError(field, value, expected string) error {
	return fmt.Errorf("topology: %w", paramError(field, value, expected))
}

// checkID validates an ID; the error is not topology-prefixed because the
// admin API uses it too.
func checkID(field, value string) error {
	if !idPattern.MatchString(value) {
		return paramError(field, value, "an ID of 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
	return nil
}

// parseNetwork parses an IPv4 CIDR that must be written as its network
// address (192.168.0.0/16, not 192.168.1.1/16).
func parseNetwork(field, value string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(value)
	if err != nil || !p.Addr().Is4() {
		return netip.Prefix{}, fieldError(field, value, "an IPv4 CIDR such as 192.168.0.0/16")
	}
	if p.Masked() != p {
		return netip.Prefix{}, fieldError(field, value, "the network address "+p.Masked().String())
	}
	return p, nil
}

// compile validates a topology and builds the world it describes.
func compile(t Topology) (*world, error) {
	d, ok := dialectFor(t.Provider)
	if !ok {
		return nil, fieldError("provider", t.Provider, dialectNames(true))
	}
	account, err := d.account(t.AccountID)
	if err != nil {
		return nil, err
	}
	w := &world{provider: d.name(), d: d, account: account, region: t.Region, created: time.Now().UTC(), entries: map[string]*entry{}}
	if err := checkID("region", t.Region); err != nil {
		return nil, fmt.Errorf("topology: %w", err)
	}
	if err := compileVPCs(w, t); err != nil {
		return nil, err
	}
	if err := compileVSwitches(w, t); err != nil {
		return nil, err
	}
	for i, spec := range t.Instances {
		field := fmt.Sprintf("instances[%d]", i)
		in, err := w.buildInstance(spec, field)
		if err != nil {
			return nil, fmt.Errorf("topology: %w", err)
		}
		enis, err := w.d.instanceENIs(w, in, spec, field)
		if err != nil {
			return nil, fmt.Errorf("topology: %w", err)
		}
		w.instances = append(w.instances, in)
		w.enis = append(w.enis, enis...)
	}
	if err := compileTables(w, t); err != nil {
		return nil, err
	}
	w.d.refreshRouteStates(w)
	if _, err := compileCredentials(t.Credentials); err != nil {
		return nil, fmt.Errorf("topology: %w", err)
	}
	if _, err := resolveBehaviour(t.Behaviour, w.d); err != nil {
		return nil, fmt.Errorf("topology: %w", err)
	}
	for i, f := range t.Faults {
		if err := f.validate(fmt.Sprintf("faults[%d]", i), w.d); err != nil {
			return nil, fmt.Errorf("topology: %w", err)
		}
	}
	return w, nil
}

func compileVPCs(w *world, t Topology) error {
	if t.VPC != nil && len(t.VPCs) > 0 {
		return fieldError("vpc", t.VPC.ID, "either vpc or vpcs, not both")
	}
	specs := t.AllVPCs()
	if len(specs) == 0 {
		return fieldError("vpc", "", "a VPC such as {id: vpc-lab, cidr: 192.168.0.0/16}")
	}
	for i, s := range specs {
		field := fmt.Sprintf("vpcs[%d]", i)
		if t.VPC != nil {
			field = "vpc"
		}
		if err := w.checkKindID(field+".id", s.ID, "vpc"); err != nil {
			return fmt.Errorf("topology: %w", err)
		}
		if err := checkTags(field+".tags", s.Tags); err != nil {
			return fmt.Errorf("topology: %w", err)
		}
		if w.vpc(s.ID) != nil {
			return fieldError(field+".id", s.ID, "a unique VPC ID")
		}
		v := &vpcNet{id: s.ID, name: s.Name, routerID: s.RouterID, tags: cloneTags(s.Tags)}
		if v.routerID == "" {
			v.routerID = "vrt-" + strings.TrimPrefix(s.ID, "vpc-")
		}
		var err error
		if v.cidr, err = parseNetwork(field+".cidr", s.CIDR); err != nil {
			return err
		}
		for j, c := range s.SecondaryCIDRs {
			p, err := parseNetwork(fmt.Sprintf("%s.secondaryCidrs[%d]", field, j), c)
			if err != nil {
				return err
			}
			v.secondary = append(v.secondary, p)
		}
		w.vpcs = append(w.vpcs, v)
	}
	return nil
}

func compileVSwitches(w *world, t Topology) error {
	list, name := t.VSwitches, "vswitches"
	switch {
	case len(t.VSwitches) > 0 && len(t.Subnets) > 0:
		return fieldError("subnets", t.Subnets[0].ID, "either vswitches or subnets, not both")
	case len(t.Subnets) > 0:
		list, name = t.Subnets, "subnets"
	case len(t.VSwitches) == 0:
		return fieldError("vswitches", "", "at least one vswitch (subnet) such as {id: vsw-lab, cidr: 192.168.1.0/24}")
	}
	for i, s := range list {
		field := fmt.Sprintf("%s[%d]", name, i)
		if err := w.checkKindID(field+".id", s.ID, "subnet"); err != nil {
			return fmt.Errorf("topology: %w", err)
		}
		if err := checkTags(field+".tags", s.Tags); err != nil {
			return fmt.Errorf("topology: %w", err)
		}
		if w.vswitch(s.ID) != nil {
			return fieldError(field+".id", s.ID, "a unique vswitch ID")
		}
		v := &vswitch{id: s.ID, name: s.Name, zone: s.Zone, vpc: s.VPC, tags: cloneTags(s.Tags)}
		if v.zone == "" {
			v.zone = t.Region + "-a"
		}
		if v.vpc == "" && len(w.vpcs) == 1 {
			v.vpc = w.vpcs[0].id
		}
		parent := w.vpc(v.vpc)
		if parent == nil {
			return fieldError(field+".vpc", s.VPC, "the ID of a VPC of the topology")
		}
		var err error
		if v.cidr, err = parseNetwork(field+".cidr", s.CIDR); err != nil {
			return err
		}
		if !parent.contains(v.cidr) {
			return fieldError(field+".cidr", s.CIDR, "a range inside VPC "+parent.id+" ("+parent.cidr.String()+" or a secondary CIDR)")
		}
		for _, o := range w.vswitches {
			if o.cidr.Overlaps(v.cidr) {
				return fieldError(field+".cidr", s.CIDR, "a range not overlapping vswitch "+o.id+" ("+o.cidr.String()+")")
			}
		}
		w.vswitches = append(w.vswitches, v)
	}
	return nil
}

// buildInstance validates an instance against the world (used by the
// topology and by the admin API).
func (w *world) buildInstance(s InstanceSpec, field string) (*instance, error) {
	if err := w.checkKindID(field+".id", s.ID, "instance"); err != nil {
		return nil, err
	}
	if s.VSwitch != "" && s.Subnet != "" && s.VSwitch != s.Subnet {
		return nil, paramError(field+".subnet", s.Subnet, "either vswitch or subnet, not both")
	}
	if s.RAMRole != "" && s.IAMRole != "" && s.RAMRole != s.IAMRole {
		return nil, paramError(field+".iamRole", s.IAMRole, "either ramRole or iamRole, not both")
	}
	if err := w.d.checkInstanceSpec(s, field); err != nil {
		return nil, err
	}
	in := &instance{id: s.ID, name: s.Name, vswitch: cmp.Or(s.VSwitch, s.Subnet), ramRole: cmp.Or(s.RAMRole, s.IAMRole),
		status: s.Status, mac: s.MAC, created: time.Now().UTC(), instanceType: cmp.Or(s.InstanceType, "t3.micro"), tags: cloneTags(s.Tags)}
	if in.vswitch == "" && len(w.vswitches) == 1 {
		in.vswitch = w.vswitches[0].id
	}
	vsw := w.vswitch(in.vswitch)
	if vsw == nil {
		return nil, paramError(field+".vswitch", in.vswitch, "the ID of a vswitch (subnet) of the topology")
	}
	in.vpc = vsw.vpc
	ip, err := netip.ParseAddr(s.PrivateIP)
	if err != nil || !ip.Is4() {
		return nil, paramError(field+".privateIp", s.PrivateIP, "an IPv4 address such as 192.168.1.196")
	}
	if !vsw.cidr.Contains(ip) || ip == vsw.cidr.Addr() {
		return nil, paramError(field+".privateIp", s.PrivateIP, "a host address inside vswitch "+vsw.id+" ("+vsw.cidr.String()+")")
	}
	in.ip = ip
	for _, o := range w.instances {
		if o.id == in.id {
			return nil, paramError(field+".id", s.ID, "a unique instance ID")
		}
		// Where addresses belong to ENIs, building them checks them.
		if o.ip == ip && w.d.addressesOnInstances() {
			return nil, paramError(field+".privateIp", s.PrivateIP, "an address not used by instance "+o.id)
		}
	}
	if err := w.d.instanceStatus(in, field, s.Status); err != nil {
		return nil, err
	}
	if in.ramRole != "" {
		if err := checkID(field+".ramRole", in.ramRole); err != nil {
			return nil, err
		}
	}
	if err := checkTags(field+".tags", s.Tags); err != nil {
		return nil, err
	}
	if in.mac != "" && !macPattern.MatchString(in.mac) {
		return nil, paramError(field+".mac", s.MAC, "a lower-case MAC such as 00:16:3e:00:00:01")
	}
	if in.mac == "" {
		in.mac = w.d.defaultMAC(in.id)
	}
	return in, nil
}

func compileTables(w *world, t Topology) error {
	claimed := map[string]string{} // vswitch -> table
	for i, s := range t.RouteTables {
		field := fmt.Sprintf("routeTables[%d]", i)
		if err := w.checkKindID(field+".id", s.ID, "table"); err != nil {
			return fmt.Errorf("topology: %w", err)
		}
		if err := checkTags(field+".tags", s.Tags); err != nil {
			return fmt.Errorf("topology: %w", err)
		}
		if err := w.d.checkTableTags(field+".tags", s.ID, s.Tags); err != nil {
			return err
		}
		if w.table(s.ID) != nil {
			return fieldError(field+".id", s.ID, "a unique route table ID")
		}
		tb := &table{id: s.ID, name: s.Name, vpc: s.VPC, typ: s.Type, tags: cloneTags(s.Tags)}
		if s.Main && tb.typ == TableTypeCustom {
			return fieldError(field+".main", "true", "type System (the main table) or no type")
		}
		if tb.typ == "" {
			tb.typ = w.d.defaultTableType(s.Main)
		}
		if tb.typ != TableTypeSystem && tb.typ != TableTypeCustom {
			return fieldError(field+".type", s.Type, "System or Custom")
		}
		if tb.vpc == "" && len(w.vpcs) == 1 {
			tb.vpc = w.vpcs[0].id
		}
		if w.vpc(tb.vpc) == nil {
			return fieldError(field+".vpc", s.VPC, "the ID of a VPC of the topology")
		}
		if tb.typ == TableTypeSystem {
			for _, o := range w.tablesOf(tb.vpc) {
				if o.typ == TableTypeSystem {
					return fieldError(field+".type", s.Type, "Custom: VPC "+tb.vpc+" already has System table "+o.id)
				}
			}
		}
		if len(s.VSwitches) > 0 && len(s.Subnets) > 0 {
			return fieldError(field+".subnets", s.Subnets[0], "either vswitches or subnets, not both")
		}
		for j, id := range append(append([]string{}, s.VSwitches...), s.Subnets...) {
			vf := fmt.Sprintf("%s.vswitches[%d]", field, j)
			if len(s.Subnets) > 0 {
				vf = fmt.Sprintf("%s.subnets[%d]", field, j)
			}
			vsw := w.vswitch(id)
			if vsw == nil || vsw.vpc != tb.vpc {
				return fieldError(vf, id, "the ID of a vswitch of VPC "+tb.vpc)
			}
			if prev, ok := claimed[id]; ok {
				return fieldError(vf, id, "a vswitch not already bound to route table "+prev)
			}
			claimed[id] = tb.id
			tb.vswitches = append(tb.vswitches, id)
			tb.explicit = append(tb.explicit, id)
		}
		w.tables = append(w.tables, tb)
	}
	for _, v := range w.vpcs {
		if !slices.ContainsFunc(w.tablesOf(v.id), func(tb *table) bool { return tb.typ == TableTypeSystem }) {
			id := w.d.mainTableID(v.id)
			w.tables = append(w.tables, &table{id: id, vpc: v.id, typ: TableTypeSystem, tags: map[string]string{}})
		}
	}
	// Unclaimed vswitches belong to their VPC's System table.
	for _, tb := range w.tables {
		if tb.typ != TableTypeSystem {
			continue
		}
		for _, v := range w.vswitchesOf(tb.vpc) {
			if _, ok := claimed[v.id]; !ok {
				tb.vswitches = append(tb.vswitches, v.id)
			}
		}
	}
	for _, tb := range w.tables {
		for _, id := range tb.vswitches {
			w.vswitch(id).table = tb.id
		}
		w.d.systemEntries(w, tb)
	}
	for i, s := range t.RouteTables {
		tb := w.table(s.ID)
		for j, r := range s.Routes {
			field := fmt.Sprintf("routeTables[%d].routes[%d]", i, j)
			if err := w.d.compileRoute(w, tb, r, field); err != nil {
				return err
			}
		}
	}
	return nil
}
