package sim

import (
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// EC2 Query parameters: lists are flattened as Name.1, Name.2, ...;
// filters as Filter.N.Name and Filter.N.Value.M; tags as Tag.N.Key and
// Tag.N.Value.

// indexed groups "Prefix.N[.Rest]" parameters by N (from 1), in N order:
// for each N the map holds Rest ("" for Prefix.N itself) -> value.
func (p params) indexed(prefix string) ([]map[string]string, *apiError) {
	byN := map[int]map[string]string{}
	for k, v := range p.Values {
		rest, ok := strings.CutPrefix(k, prefix+".")
		if !ok {
			continue
		}
		idx, field, _ := strings.Cut(rest, ".")
		n, err := strconv.Atoi(idx)
		if err != nil || n < 1 {
			return nil, ec2Invalid(k, v[0], prefix+".N with N from 1")
		}
		if byN[n] == nil {
			byN[n] = map[string]string{}
		}
		byN[n][field] = v[0]
	}
	keys := slices.Sorted(maps.Keys(byN))
	out := make([]map[string]string, 0, len(keys))
	for _, n := range keys {
		out = append(out, byN[n])
	}
	return out, nil
}

// list reads a flattened list such as RouteTableId.1, RouteTableId.2.
func (p params) list(prefix string) ([]string, *apiError) {
	items, aerr := p.indexed(prefix)
	if aerr != nil {
		return nil, aerr
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		if v, ok := it[""]; ok {
			out = append(out, v)
		}
	}
	return out, nil
}

// ec2Filter is one Filter.N: a name and the values any of which may match.
type ec2Filter struct {
	name   string
	values []string
}

// EC2MaxFilterValues is the most filter values EC2 takes in one call,
// counted across all its filters; more are refused with
// FilterLimitExceeded ("The maximum number of filter values specified on
// a single call is 200").
const EC2MaxFilterValues = 200

// filters reads Filter.N.Name/Filter.N.Value.M and checks every name
// against the resource's known filters (plus tag:<key>), and the call's
// filter values against EC2MaxFilterValues.
func (p params) filters(known []string) ([]ec2Filter, *apiError) {
	items, aerr := p.indexed("Filter")
	if aerr != nil {
		return nil, aerr
	}
	out := make([]ec2Filter, 0, len(items))
	values := 0
	for _, it := range items {
		f := ec2Filter{name: it["Name"]}
		if f.name == "" {
			return nil, ec2Missing("Filter.N.Name")
		}
		if !slices.Contains(known, f.name) && !strings.HasPrefix(f.name, "tag:") {
			return nil, ec2Err(CodeInvalidParameterValue, "The filter '%s' is invalid", f.name)
		}
		var idx []int
		for k := range it {
			if n, ok := strings.CutPrefix(k, "Value."); ok {
				i, err := strconv.Atoi(n)
				if err != nil || i < 1 {
					return nil, ec2Invalid("Filter.N."+k, it[k], "Filter.N.Value.M with M from 1")
				}
				idx = append(idx, i)
			}
		}
		sort.Ints(idx)
		for _, i := range idx {
			f.values = append(f.values, it["Value."+strconv.Itoa(i)])
		}
		if len(f.values) == 0 {
			return nil, ec2Err(CodeInvalidParameterValue, "The filter '%s' has no values: expected Filter.N.Value.1", f.name)
		}
		if values += len(f.values); values > EC2MaxFilterValues {
			return nil, ec2Err(CodeFilterLimitExceeded, "The maximum number of filter values specified on a single call is %d", EC2MaxFilterValues)
		}
		out = append(out, f)
	}
	return out, nil
}

// matchFilters reports whether a resource passes every filter: for each,
// one of the resource's values for the name matches one filter value
// (with EC2's * and ? wildcards). tag:<key>, tag-key and tag-value read
// tags.
func matchFilters(fs []ec2Filter, tags map[string]string, values func(name string) []string) bool {
	for _, f := range fs {
		var have []string
		switch {
		case strings.HasPrefix(f.name, "tag:"):
			if v, ok := tags[strings.TrimPrefix(f.name, "tag:")]; ok {
				have = []string{v}
			}
		case f.name == "tag-key":
			have = slices.Collect(maps.Keys(tags))
		case f.name == "tag-value":
			have = slices.Collect(maps.Values(tags))
		default:
			have = values(f.name)
		}
		if !slices.ContainsFunc(have, func(h string) bool {
			return slices.ContainsFunc(f.values, func(pat string) bool { return globMatch(pat, h) })
		}) {
			return false
		}
	}
	return true
}

// globMatch matches EC2 filter wildcards: * any run, ? one character, \
// escapes the next one.
func globMatch(pattern, s string) bool {
	if pattern == "" {
		return s == ""
	}
	switch c := pattern[0]; c {
	case '*':
		for i := 0; i <= len(s); i++ {
			if globMatch(pattern[1:], s[i:]) {
				return true
			}
		}
		return false
	case '?':
		return s != "" && globMatch(pattern[1:], s[1:])
	case '\\':
		if len(pattern) > 1 {
			return s != "" && s[0] == pattern[1] && globMatch(pattern[2:], s[1:])
		}
	}
	return s != "" && s[0] == pattern[0] && globMatch(pattern[1:], s[1:])
}

// tagFilterNames are the filters every taggable resource takes.
var tagFilterNames = []string{"tag-key", "tag-value"}

// ec2Page applies NextToken and MaxResults (5..hi when given; every item
// when not) to the items a Describe call selected, returning the page and
// the next token.
func ec2Page[T any](p params, items []T, hi int) (page []T, next string, aerr *apiError) {
	const lo = 5
	n := len(items)
	from := 0
	if tok := p.Get("NextToken"); tok != "" {
		v, err := strconv.Atoi(strings.TrimPrefix(tok, nextTokenPrefix))
		if !strings.HasPrefix(tok, nextTokenPrefix) || err != nil || v < 0 {
			return nil, "", ec2Err(CodeInvalidParameterValue, "The NextToken %q is invalid: expected the nextToken of a previous answer.", tok)
		}
		from = min(v, n)
	}
	to := n
	if m := p.Get("MaxResults"); m != "" {
		limit, err := strconv.Atoi(m)
		if err != nil || limit < lo || limit > hi {
			return nil, "", ec2Invalid("MaxResults", m, "an integer from "+strconv.Itoa(lo)+" to "+strconv.Itoa(hi))
		}
		to = min(from+limit, n)
	}
	if to < n {
		next = nextTokenPrefix + strconv.Itoa(to)
	}
	return items[from:to], next, nil
}

// ec2Selection is what a Describe call asks for: the IDs (none: every
// item) and the filters.
type ec2Selection struct {
	ids []string
	fs  []ec2Filter
}

// ec2Select reads a Describe call's IDs (idParam.N) and its filters, whose
// names must be among known.
func (p params) ec2Select(idParam string, known []string) (ec2Selection, *apiError) {
	ids, aerr := p.list(idParam)
	if aerr != nil {
		return ec2Selection{}, aerr
	}
	fs, aerr := p.filters(known)
	if aerr != nil {
		return ec2Selection{}, aerr
	}
	return ec2Selection{ids: ids, fs: fs}, nil
}

// selects reports whether the item id, with its tags and filter values,
// is asked for.
func (q ec2Selection) selects(id string, tags map[string]string, values func(name string) []string) bool {
	return (len(q.ids) == 0 || slices.Contains(q.ids, id)) && matchFilters(q.fs, tags, values)
}

// checkIDs answers NotFound for the first requested ID that does not
// exist.
func (q ec2Selection) checkIDs(exists func(string) bool, code, kind string) *apiError {
	for _, id := range q.ids {
		if !exists(id) {
			return ec2Err(code, "The %s ID '%s' does not exist", kind, id)
		}
	}
	return nil
}

const nextTokenPrefix = "vpcroute-sim-"

// ec2Tag is one item of a tagSet.
type ec2Tag struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

// tagSet renders tags sorted by key.
func tagSet(tags map[string]string) []ec2Tag {
	out := make([]ec2Tag, 0, len(tags))
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		out = append(out, ec2Tag{Key: k, Value: tags[k]})
	}
	return out
}

// boolParam reads an optional true/false parameter.
func (p params) boolParam(name string) (value, given bool, aerr *apiError) {
	v := p.Get(name)
	switch v {
	case "":
		return false, false, nil
	case "true":
		return true, true, nil
	case "false":
		return false, true, nil
	}
	return false, false, ec2Invalid(name, v, "true or false")
}
