package sim

import "strings"

// CreateTags on ENIs, route tables, VPCs, subnets and instances.

// maxTags is EC2's limit of tags per resource.
const maxTags = 50

// taggable returns the tags of a resource named by ID. Callers hold s.mu.
func (w *world) taggable(id string) (map[string]string, *apiError) {
	kind, _, _ := strings.Cut(id, "-")
	var tags map[string]string
	switch kind {
	case "eni":
		if n := w.eni(id); n != nil {
			tags = n.tags
		}
	case "rtb":
		if t := w.table(id); t != nil {
			tags = t.tags
		}
	case "vpc":
		if v := w.vpc(id); v != nil {
			tags = v.tags
		}
	case "subnet":
		if v := w.vswitch(id); v != nil {
			tags = v.tags
		}
	case "i":
		if in := w.instance(id); in != nil {
			tags = in.tags
		}
	default:
		return nil, ec2Err(CodeInvalidID, "The ID '%s' is not valid (vpcroute-sim tags eni-, rtb-, vpc-, subnet- and i- resources)", id)
	}
	if tags == nil {
		codes := map[string][2]string{"eni": {CodeENINotFound, "networkInterface"}, "rtb": {CodeRouteTableNotFound, "routeTable"},
			"vpc": {CodeVpcNotFound, "vpc"}, "subnet": {CodeSubnetNotFound, "subnet"}, "i": {CodeEC2InstanceNotFound, "instance"}}
		return nil, ec2Err(codes[kind][0], "The %s ID '%s' does not exist", codes[kind][1], id)
	}
	return tags, nil
}

func (s *Server) ec2CreateTags(p params) (any, *apiError) {
	ids, aerr := p.list("ResourceId")
	if aerr != nil {
		return nil, aerr
	}
	if len(ids) == 0 {
		return nil, ec2Missing("ResourceId")
	}
	items, aerr := p.indexed("Tag")
	if aerr != nil {
		return nil, aerr
	}
	if len(items) == 0 {
		return nil, ec2Missing("Tag")
	}
	add := map[string]string{}
	for _, it := range items {
		k := it["Key"]
		if k == "" || len(k) > 128 || strings.HasPrefix(strings.ToLower(k), "aws:") {
			return nil, ec2Invalid("Tag.N.Key", k, "a key of 1-128 characters not starting with aws: (reserved)")
		}
		if len(it["Value"]) > 256 {
			return nil, ec2Invalid("Tag.N.Value", it["Value"], "a value of at most 256 characters")
		}
		add[k] = it["Value"]
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// All resources are checked before any is tagged: the call is atomic.
	targets := make([]map[string]string, 0, len(ids))
	for _, id := range ids {
		tags, aerr := s.w.taggable(id)
		if aerr != nil {
			return nil, aerr
		}
		n := len(tags)
		for k := range add {
			if _, ok := tags[k]; !ok {
				n++
			}
		}
		if n > maxTags {
			return nil, ec2Err(CodeTagLimitExceeded, "The maximum number of Tags for a resource has been reached: %s would hold %d tags, the limit is %d.", id, n, maxTags)
		}
		targets = append(targets, tags)
	}
	for _, tags := range targets {
		for k, v := range add {
			tags[k] = v
		}
	}
	return trueResponse("CreateTags"), nil
}
