package lab

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// SimEntry is one route entry from the simulator's GET /sim/v1/routes.
type SimEntry struct {
	// Table is the route table holding the entry.
	Table string
	// Destination is the entry's destination CIDR, as served.
	Destination string
	// Type, NextHopType, NextHopID, Status, Name and Description are the
	// entry's fields, when the simulator serves them under those names.
	// Type is "System" for the cloud's own entries (vswitch routes).
	Type, NextHopType, NextHopID, Status, Name, Description string
	// Raw is the entry's JSON object byte for byte as served; the
	// unowned-entry test compares it.
	Raw json.RawMessage
}

// Field names, compared case-insensitively, that the parser recognises.
var (
	destinationKeys = []string{"destination", "destinationcidrblock", "destinationCidr"}
	tableKeys       = []string{"table", "tableid", "routetableid", "routetable"}
	tableIDKeys     = []string{"id", "routetableid", "tableid"}
)

// ParseSimRoutes extracts every route entry from the admin API's JSON. An
// entry is any object with a destination field; its table is its own table
// field or the id of the closest enclosing object that has one. The parser
// does not depend on the exact nesting, so it keeps working if the
// simulator's document grows.
func ParseSimRoutes(data []byte) ([]SimEntry, error) {
	var out []SimEntry
	if err := walkRoutes(json.RawMessage(bytes.TrimSpace(data)), "", &out); err != nil {
		return nil, fmt.Errorf("parse /sim/v1/routes: %w", err)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Table != out[j].Table {
			return out[i].Table < out[j].Table
		}
		return out[i].Destination < out[j].Destination
	})
	return out, nil
}

func walkRoutes(raw json.RawMessage, table string, out *[]SimEntry) error {
	if len(raw) == 0 {
		return nil
	}
	switch raw[0] {
	case '[':
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return err
		}
		for _, it := range items {
			if err := walkRoutes(it, table, out); err != nil {
				return err
			}
		}
	case '{':
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil {
			return err
		}
		if dest, ok := stringField(obj, destinationKeys...); ok {
			e := SimEntry{Table: table, Destination: dest, Raw: raw}
			if t, ok := stringField(obj, tableKeys...); ok {
				e.Table = t
			}
			e.Type, _ = stringField(obj, "type", "routeEntryType")
			e.NextHopType, _ = stringField(obj, "nextHopType")
			e.NextHopID, _ = stringField(obj, "nextHopId", "instanceId")
			e.Status, _ = stringField(obj, "status")
			e.Name, _ = stringField(obj, "name", "routeEntryName")
			e.Description, _ = stringField(obj, "description")
			*out = append(*out, e)
			return nil
		}
		if id, ok := stringField(obj, tableIDKeys...); ok {
			table = id
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if err := walkRoutes(obj[k], table, out); err != nil {
				return err
			}
		}
	}
	return nil
}

// stringField returns the first of keys (case-insensitive) holding a
// string, in the order of keys: an EC2 route to an ENI carries both
// nextHopId and instanceId, and must always read as its nextHopId.
func stringField(obj map[string]json.RawMessage, keys ...string) (string, bool) {
	for _, want := range keys {
		for k, v := range obj {
			if !strings.EqualFold(k, want) {
				continue
			}
			var s string
			if json.Unmarshal(v, &s) == nil {
				return s, true
			}
		}
	}
	return "", false
}

// FindEntry returns the entry of table with destination, if present.
func FindEntry(entries []SimEntry, table, destination string) (SimEntry, bool) {
	for _, e := range entries {
		if e.Table == table && e.Destination == destination {
			return e, true
		}
	}
	return SimEntry{}, false
}
