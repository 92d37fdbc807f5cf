package sim

import (
	"net/netip"
	"slices"
	"strings"
)

// parseDestination applies the API's rules to a destination CIDR block: an
// address without a mask is a /32, only IPv4, written as its network
// address.
func parseDestination(s string) (netip.Prefix, *apiError) {
	if s == "" {
		return netip.Prefix{}, missingParam("DestinationCidrBlock")
	}
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is4() {
			return netip.Prefix{}, malformedCIDR(s)
		}
		return netip.PrefixFrom(a, 32), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is4() || p.Masked() != p {
		return netip.Prefix{}, malformedCIDR(s)
	}
	return p, nil
}

func malformedCIDR(s string) *apiError {
	return badRequest(CodeCIDRMalformed,
		"The specified DestinationCidrBlock %q is malformed: expected an IPv4 CIDR block written as its network address, such as 10.0.0.0/24.", s)
}

// checkNameDesc applies the length and prefix rules of RouteEntryName and
// Description.
func checkNameDesc(name, desc string) *apiError {
	if len(name) > 128 || hasURLPrefix(name) {
		return badRequest(CodeNameMalformed,
			"The specified RouteEntryName %q is malformed: expected at most 128 characters, not starting with http:// or https://.", name)
	}
	if len(desc) > 256 || hasURLPrefix(desc) {
		return badRequest(CodeDescriptionMalformed,
			"The specified Description %q is malformed: expected at most 256 characters, not starting with http:// or https://.", desc)
	}
	return nil
}

func hasURLPrefix(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

// checkHop validates a next hop for an entry of table t. Instance next hops
// must be instances of the table's VPC; other kinds are taken on trust.
func (w *world) checkHop(t *table, hopType, hopID string) *apiError {
	if hopType == "" {
		return missingParam("NextHopType")
	}
	if !slices.Contains(nextHopTypes, hopType) {
		return badRequest(CodeNextHopTypeInvalid, "The specified NextHopType %q is not supported: expected one of %s.",
			hopType, strings.Join(nextHopTypes, ", "))
	}
	if hopID == "" {
		return missingParam("NextHopId")
	}
	if hopType == NextHopInstance {
		in := w.instance(hopID)
		if in == nil || in.vpc != t.vpc {
			return notFound(CodeInstanceNotFound, "The specified instance %s does not exist in VPC %s.", hopID, t.vpc)
		}
	}
	return nil
}

// checkPlacement applies the destination rules of a custom entry in table t:
// not equal to nor inside a vswitch CIDR of the VPC (it may contain one),
// unique in the table.
func (w *world) checkPlacement(t *table, dest netip.Prefix) *apiError {
	for _, v := range w.vswitchesOf(t.vpc) {
		if v.cidr.Bits() <= dest.Bits() && v.cidr.Contains(dest.Addr()) {
			return badRequest(CodeCIDROverlapped,
				"Specified CIDR block overlapped with other subnets: %s is the same as or inside the CIDR block %s of vswitch %s.", dest, v.cidr, v.id)
		}
	}
	if e := t.entryByDest(dest); e != nil {
		return badRequest(CodeDuplicate,
			"The specified CIDR block %s already exists in route table %s (entry %s, next hop %s %s).",
			dest, t.id, e.id, e.hopType, e.hopID)
	}
	return nil
}

// checkNewEntry is checkHop then checkPlacement, for entries that do not go
// through the API (topology, admin API).
func (w *world) checkNewEntry(t *table, dest netip.Prefix, hopType, hopID string) *apiError {
	if aerr := w.checkHop(t, hopType, hopID); aerr != nil {
		return aerr
	}
	return w.checkPlacement(t, dest)
}

// checkQuota refuses a table that already holds quota custom entries.
func checkQuota(t *table, quota, adding int) *apiError {
	used := t.customCount()
	if used+adding > quota {
		return badRequest(CodeQuotaExceeded,
			"The quota of route entries in the route table is exceeded: route table %s holds %d custom entries and its quota is %d.",
			t.id, used, quota)
	}
	return nil
}

// findEntry resolves the ways the API names an entry: by ID, or by table and
// destination (and optionally next hop).
func (w *world) findEntry(entryID, tableID, dest, hopID string) (*entry, *apiError) {
	if entryID != "" {
		e := w.entries[entryID]
		if e == nil || (tableID != "" && e.table != tableID) {
			return nil, badRequest(CodeEntryNotFound, "The specified route entry %s does not exist.", entryID)
		}
		return e, nil
	}
	if tableID == "" {
		return nil, missingParam("RouteEntryId")
	}
	t := w.table(tableID)
	if t == nil {
		return nil, notFound(CodeTableNotFound, "The specified route table %s does not exist.", tableID)
	}
	p, aerr := parseDestination(dest)
	if aerr != nil {
		return nil, aerr
	}
	e := t.entryByDest(p)
	if e == nil || (hopID != "" && e.hopID != hopID) {
		return nil, badRequest(CodeEntryNotFound, "The specified route entry %s (next hop %q) does not exist in route table %s.", p, hopID, tableID)
	}
	return e, nil
}
