package sim

import (
	"net/http"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"
)

// maxBatch is the per-call limit of CreateRouteEntries/DeleteRouteEntries.
const maxBatch = 50

type createRouteEntryResponse struct {
	base
	RouteEntryID string `json:"RouteEntryId"`
}

type plainResponse struct{ base }

type failedEntry struct {
	RouteEntryID  string `json:"RouteEntryId,omitempty"`
	DstCidrBlock  string `json:"DstCidrBlock"`
	NextHop       string `json:"NextHop"`
	FailedCode    string `json:"FailedCode"`
	FailedMessage string `json:"FailedMessage"`
}

type batchResponse struct {
	base
	SuccessCount       int           `json:"SuccessCount"`
	FailedCount        int           `json:"FailedCount"`
	RouteEntryIDs      []string      `json:"RouteEntryIds,omitempty"`
	FailedRouteEntries []failedEntry `json:"FailedRouteEntries"`
}

func (s *Server) createRouteEntry(p params) (any, *apiError) {
	tableID := p.Get("RouteTableId")
	if tableID == "" {
		return nil, missingParam("RouteTableId")
	}
	if p.Get("NextHopList.1.NextHopId") != "" {
		return nil, badRequest(CodeUnsupportedECMP, "vpcroute-sim does not simulate ECMP routes (NextHopList); give NextHopType and NextHopId.")
	}
	dest, aerr := parseDestination(p.Get("DestinationCidrBlock"))
	if aerr != nil {
		return nil, aerr
	}
	name, desc := p.Get("RouteEntryName"), p.Get("Description")
	if aerr := checkNameDesc(name, desc); aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	token := p.Get("ClientToken")
	if id, ok := s.clientTokens[token]; ok && token != "" && s.w.entries[id] != nil {
		// Same ClientToken: the real API answers the first call's result.
		return &createRouteEntryResponse{RouteEntryID: id}, nil
	}
	t := s.w.table(tableID)
	if t == nil {
		return nil, notFound(CodeTableNotFound, "The specified route table %s does not exist.", tableID)
	}
	if aerr := s.w.checkHop(t, p.Get("NextHopType"), p.Get("NextHopId")); aerr != nil {
		return nil, aerr
	}
	if e := s.w.busy(t.vpc); e != nil {
		return nil, s.conflict(t.vpc, e)
	}
	if aerr := s.w.checkPlacement(t, dest); aerr != nil {
		return nil, aerr
	}
	if aerr := checkQuota(t, s.beh.quota, 1); aerr != nil {
		return nil, aerr
	}
	e := s.addEntry(t, dest, p.Get("NextHopType"), p.Get("NextHopId"), name, desc)
	if token != "" {
		s.clientTokens[token] = e.id
	}
	return &createRouteEntryResponse{RouteEntryID: e.id}, nil
}

// addEntry creates a custom entry and starts its Pending period. Callers
// hold s.mu.
func (s *Server) addEntry(t *table, dest netip.Prefix, hopType, hopID, name, desc string) *entry {
	e := s.w.newEntry(t, &entry{dest: dest, hopType: hopType, hopID: hopID, name: name, desc: desc, created: time.Now().UTC()})
	s.startTransition(e, StatusPending, false)
	return e
}

// batchItems groups "RouteEntries.N.Field" parameters by N, in N order.
func batchItems(p params) ([]map[string]string, *apiError) {
	byIndex := map[int]map[string]string{}
	for key, vals := range p.Values {
		rest, ok := strings.CutPrefix(key, "RouteEntries.")
		if !ok {
			continue
		}
		idx, field, ok := strings.Cut(rest, ".")
		n, err := strconv.Atoi(idx)
		if !ok || err != nil || n < 1 {
			return nil, invalidParam(key, vals[0], "RouteEntries.N.Field with N from 1")
		}
		if byIndex[n] == nil {
			byIndex[n] = map[string]string{}
		}
		byIndex[n][field] = vals[0]
	}
	if len(byIndex) == 0 {
		return nil, missingParam("RouteEntries")
	}
	if len(byIndex) > maxBatch {
		return nil, badRequest(CodeInvalidParameter, "The parameter RouteEntries holds %d entries: expected at most %d per call.", len(byIndex), maxBatch)
	}
	keys := make([]int, 0, len(byIndex))
	for n := range byIndex {
		keys = append(keys, n)
	}
	sort.Ints(keys)
	out := make([]map[string]string, 0, len(keys))
	for _, n := range keys {
		out = append(out, byIndex[n])
	}
	return out, nil
}

func (s *Server) createRouteEntries(p params) (any, *apiError) {
	items, aerr := batchItems(p)
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// The call is one change: refused whole when a VPC it touches is busy.
	for _, it := range items {
		if t := s.w.table(it["RouteTableId"]); t != nil {
			if e := s.w.busy(t.vpc); e != nil {
				return nil, s.conflict(t.vpc, e)
			}
		}
	}
	resp := &batchResponse{RouteEntryIDs: []string{}, FailedRouteEntries: []failedEntry{}}
	for _, it := range items {
		id, aerr := s.createOne(it)
		if aerr != nil {
			resp.FailedRouteEntries = append(resp.FailedRouteEntries, failedEntry{DstCidrBlock: it["DstCidrBlock"],
				NextHop: it["NextHop"], FailedCode: aerr.Code, FailedMessage: aerr.Message})
			continue
		}
		resp.RouteEntryIDs = append(resp.RouteEntryIDs, id)
	}
	resp.SuccessCount, resp.FailedCount = len(resp.RouteEntryIDs), len(resp.FailedRouteEntries)
	return resp, nil
}

// createOne creates one entry of a CreateRouteEntries call. Callers hold
// s.mu.
func (s *Server) createOne(it map[string]string) (string, *apiError) {
	switch v := it["IpVersion"]; v {
	case "", "4":
	case "6":
		return "", invalidParam("IpVersion", v, "4: vpcroute-sim simulates no IPv6")
	default:
		return "", invalidParam("IpVersion", v, "4 (IPv4) or 6 (IPv6)")
	}
	desc := it["Description"]
	t := s.w.table(it["RouteTableId"])
	if t == nil {
		return "", notFound(CodeTableNotFound, "The specified route table %q does not exist.", it["RouteTableId"])
	}
	dest, aerr := parseDestination(it["DstCidrBlock"])
	if aerr != nil {
		return "", aerr
	}
	if aerr := checkNameDesc(it["Name"], desc); aerr != nil {
		return "", aerr
	}
	if aerr := s.w.checkHop(t, it["NextHopType"], it["NextHop"]); aerr != nil {
		return "", aerr
	}
	if aerr := s.w.checkPlacement(t, dest); aerr != nil {
		return "", aerr
	}
	if aerr := checkQuota(t, s.beh.quota, 1); aerr != nil {
		return "", aerr
	}
	return s.addEntry(t, dest, it["NextHopType"], it["NextHop"], it["Name"], desc).id, nil
}

func (s *Server) deleteRouteEntry(p params) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, aerr := s.w.findEntry(p.Get("RouteEntryId"), p.Get("RouteTableId"), p.Get("DestinationCidrBlock"), p.Get("NextHopId"))
	if aerr != nil {
		return nil, aerr
	}
	if aerr := s.deletable(e); aerr != nil {
		return nil, aerr
	}
	s.startTransition(e, StatusDeleting, true)
	return &plainResponse{}, nil
}

// deletable refuses system entries and entries of a busy VPC. Callers hold
// s.mu.
func (s *Server) deletable(e *entry) *apiError {
	if e.system {
		return badRequest(CodeSystemEntry, "Specified operation is denied as route entry type is system: %s (%s).", e.id, e.dest)
	}
	vpcID := s.w.table(e.table).vpc
	if b := s.w.busy(vpcID); b != nil {
		return s.conflict(vpcID, b)
	}
	return nil
}

func (s *Server) deleteRouteEntries(p params) (any, *apiError) {
	items, aerr := batchItems(p)
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	found := make([]*entry, len(items))
	errs := make([]*apiError, len(items))
	for i, it := range items {
		found[i], errs[i] = s.w.findEntry(it["RouteEntryId"], it["RouteTableId"], it["DstCidrBlock"], it["NextHop"])
		if found[i] == nil {
			continue
		}
		if found[i].system {
			errs[i] = badRequest(CodeSystemEntry, "Specified operation is denied as route entry type is system: %s (%s).", found[i].id, found[i].dest)
			found[i] = nil
			continue
		}
		vpcID := s.w.table(found[i].table).vpc
		if b := s.w.busy(vpcID); b != nil {
			return nil, s.conflict(vpcID, b)
		}
	}
	resp := &batchResponse{FailedRouteEntries: []failedEntry{}}
	for i, e := range found {
		if e == nil {
			it := items[i]
			resp.FailedRouteEntries = append(resp.FailedRouteEntries, failedEntry{RouteEntryID: it["RouteEntryId"],
				DstCidrBlock: it["DstCidrBlock"], NextHop: it["NextHop"], FailedCode: errs[i].Code, FailedMessage: errs[i].Message})
			continue
		}
		if e.status == StatusDeleting {
			continue // named twice in one call
		}
		s.startTransition(e, StatusDeleting, true)
		resp.SuccessCount++
	}
	resp.FailedCount = len(resp.FailedRouteEntries)
	return resp, nil
}

func (s *Server) modifyRouteEntry(p params) (any, *apiError) {
	if p.Get("NewNextHopId") != "" || p.Get("NewNextHopType") != "" {
		return nil, errorf(http.StatusBadRequest, CodeUnsupportedModification,
			"vpcroute-sim changes only RouteEntryName and Description; delete and recreate the entry to change its next hop.")
	}
	_, hasName := p.Values["RouteEntryName"]
	_, hasDesc := p.Values["Description"]
	if aerr := checkNameDesc(p.Get("RouteEntryName"), p.Get("Description")); aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, aerr := s.w.findEntry(p.Get("RouteEntryId"), p.Get("RouteTableId"), p.Get("DestinationCidrBlock"), "")
	if aerr != nil {
		return nil, aerr
	}
	if aerr := s.deletable(e); aerr != nil {
		return nil, aerr
	}
	if hasName {
		e.name = p.Get("RouteEntryName")
	}
	if hasDesc {
		e.desc = p.Get("Description")
	}
	s.startTransition(e, StatusModifying, false)
	return &plainResponse{}, nil
}
