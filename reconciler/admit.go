package reconciler

import (
	"fmt"

	"github.com/vpcroute/vpcroute/cloud"
)

// MaxClaimsPerHost bounds the subnets one host record may claim. A Docker
// host has its bip and a few bridge networks; a record claiming more is
// refused whole rather than trimmed, so that nobody has to guess which of
// its claims were meant.
const MaxClaimsPerHost = 32

// MaxRecordBytes bounds the size of one host record in the registry.
const MaxRecordBytes = 16 << 10

// RefusedHost is a host record the leader did not accept: none of its
// claims creates, moves or deletes anything.
type RefusedHost struct {
	Instance string `json:"instance"`
	Reason   string `json:"reason"`
}

// InstanceCheck is what the cloud said about one registered instance.
type InstanceCheck struct {
	// Listed: the cloud lists the instance in this VPC; Target is then
	// where routes to it must point.
	Listed bool
	Target cloud.Target
	// Err is set when the cloud could not be asked; Listed means nothing.
	Err string
}

// AdmitHosts decides which host records the leader believes. A record is a
// claim, not an instruction: where its routes point comes from the cloud
// (checks, by instance), never from the record. A record is refused whole
// when the registry could not read it, when it claims more than
// MaxClaimsPerHost subnets, when its instance was not verified or is not
// listed by the cloud in the VPC, or when the target it states differs
// from the one the cloud gives. Accepted hosts carry the cloud's target.
func AdmitHosts(hosts []Host, checks map[string]InstanceCheck) (accepted []Host, refused []RefusedHost) {
	for _, h := range hosts {
		if reason := refuseHostReason(h, checks); reason != "" {
			refused = append(refused, RefusedHost{Instance: h.Instance, Reason: reason})
			continue
		}
		h.Target = checks[h.Instance].Target
		accepted = append(accepted, h)
	}
	return accepted, refused
}

func refuseHostReason(h Host, checks map[string]InstanceCheck) string {
	if h.Problem != "" {
		return h.Problem
	}
	if n := len(h.Subnets); n > MaxClaimsPerHost {
		return fmt.Sprintf("record claims %d subnets: expected at most %d", n, MaxClaimsPerHost)
	}
	c, asked := checks[h.Instance]
	switch {
	case !asked:
		return fmt.Sprintf("instance %s is not verified with the cloud yet", h.Instance)
	case c.Err != "":
		return fmt.Sprintf("instance %s is not verified with the cloud yet: %s", h.Instance, c.Err)
	case !c.Listed:
		return fmt.Sprintf("instance %s is not listed by the cloud in this VPC", h.Instance)
	}
	if want := c.Target; h.Target != want {
		return fmt.Sprintf("record says routes go to %s, but the cloud says instance %s is reached through %s", describeTarget(h.Target), h.Instance, want)
	}
	return ""
}

func describeTarget(t cloud.Target) string {
	if t.ID == "" && t.Kind == "" {
		return "no target"
	}
	return fmt.Sprintf("%q", t.String())
}
