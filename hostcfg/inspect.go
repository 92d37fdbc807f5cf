package hostcfg

import (
	"context"
	"fmt"
)

// State is a read-only report of vpcroute's footprint on this host, for
// `vpcroute doctor` and `vpcroute status`.
type State struct {
	// IPForward is net.ipv4.ip_forward as the kernel reports it.
	IPForward string `json:"ipForward"`
	// ForwardPolicy is the filter FORWARD policy.
	ForwardPolicy string `json:"forwardPolicy"`
	// RecordedForwardPolicy is the policy Cleanup will restore; empty when
	// vpcroute did not change the policy.
	RecordedForwardPolicy string `json:"recordedForwardPolicy,omitempty"`
	// DockerUserChain is true when DOCKER-USER exists, DockerUserJumped when
	// FORWARD jumps to it (Docker's jump or vpcroute's), DockerUserCreated
	// when vpcroute created it.
	DockerUserChain   bool `json:"dockerUserChain"`
	DockerUserJumped  bool `json:"dockerUserJumped"`
	DockerUserCreated bool `json:"dockerUserCreated"`
	// ForwardChain is true when VPCROUTE-FORWARD exists, ForwardJump when
	// DOCKER-USER jumps to it with vpcroute's tag.
	ForwardChain bool `json:"forwardChain"`
	ForwardJump  bool `json:"forwardJump"`
	// NATChain is true when VPCROUTE-POSTROUTING exists. NATJumpPosition is
	// the 1-based position of vpcroute's jump in nat POSTROUTING, 0 when
	// absent; anything but 1 means Docker's MASQUERADE may come first.
	NATChain        bool `json:"natChain"`
	NATJumpPosition int  `json:"natJumpPosition"`
	// ForwardRules and NATRules are vpcroute's rules in its chains, as
	// `iptables -S` prints them after "-A CHAIN".
	ForwardRules []string `json:"forwardRules"`
	NATRules     []string `json:"natRules"`
	// Drift is what Apply would change with the options given; it is only
	// computed when the options list subnets (nil otherwise).
	Drift []Change `json:"drift"`
}

// Inspect reports the current state without changing anything. When
// opts.Subnets is set the options must be valid, and Drift says what Apply
// would do; an empty Drift means the host is as Apply leaves it.
func Inspect(ctx context.Context, opts Options) (State, error) {
	return inspectWith(ctx, newIPTables, opts)
}

// inspectWith is Inspect with the iptables handle made by newIPT.
func inspectWith(ctx context.Context, newIPT func() (iptablesAPI, error), opts Options) (State, error) {
	check := len(opts.Subnets) > 0
	if check {
		if err := opts.Validate(); err != nil {
			return State{}, err
		}
	} else if err := opts.validateCommon(); err != nil {
		return State{}, err
	}
	if err := ctx.Err(); err != nil {
		return State{}, fmt.Errorf("hostcfg inspect: %w", err)
	}
	ipt, err := newIPT()
	if err != nil {
		return State{}, fmt.Errorf("hostcfg inspect: %w", err)
	}
	opts = opts.withDefaults()
	s, err := readSnapshot(ipt, opts)
	if err != nil {
		return State{}, fmt.Errorf("hostcfg inspect: %w", err)
	}
	st := stateOf(s, Tag(opts.Cluster))
	if check {
		st.Drift = planApply(s, desiredRules(opts), opts.ForwardPolicyAccept).changes
		if st.Drift == nil {
			st.Drift = []Change{}
		}
	}
	return st, nil
}

// stateOf summarizes a snapshot for tag.
func stateOf(s snapshot, tag string) State {
	st := State{
		IPForward:             s.ipForward,
		ForwardPolicy:         s.forward.policy,
		RecordedForwardPolicy: s.recordedPolicy,
		DockerUserChain:       s.filterChains[ChainDockerUser],
		DockerUserCreated:     s.dockerUserCreated,
		ForwardChain:          s.filterChains[ChainVPCForward],
		NATChain:              s.natChains[ChainVPCPostrouting],
		ForwardRules:          ownedStrings(s.vpcForward.rules, tag),
		NATRules:              ownedStrings(s.vpcPost.rules, tag),
	}
	for _, r := range s.forward.rules {
		st.DockerUserJumped = st.DockerUserJumped || r.target() == ChainDockerUser
	}
	for _, r := range s.dockerUser.rules {
		st.ForwardJump = st.ForwardJump || (r.ownedBy(tag) && r.target() == ChainVPCForward)
	}
	for i, r := range s.postrouting.rules {
		if r.ownedBy(tag) && r.target() == ChainVPCPostrouting {
			st.NATJumpPosition = i + 1
			break
		}
	}
	return st
}

// ownedStrings renders the rules owned by tag.
func ownedStrings(rules []spec, tag string) []string {
	out := []string{}
	for _, r := range rules {
		if r.ownedBy(tag) {
			out = append(out, r.String())
		}
	}
	return out
}
