package hostcfg

import (
	"slices"
)

// State file names inside Options.StateDir.
const (
	// stateForwardPolicy holds the FORWARD policy that was in force before
	// ForwardPolicyAccept changed it, so Cleanup can put it back.
	stateForwardPolicy = "forward-policy"
	// stateDockerUser exists while vpcroute owns a DOCKER-USER chain it
	// created because Docker had not (yet).
	stateDockerUser = "docker-user-created"
)

// snapshot is everything the plans read from the host. Missing chains have
// a zero chainDump and are absent from the chain sets.
type snapshot struct {
	ipForward    string
	filterChains map[string]bool
	natChains    map[string]bool
	forward      chainDump // filter FORWARD, with its policy
	dockerUser   chainDump // filter DOCKER-USER
	vpcForward   chainDump // filter VPCROUTE-FORWARD
	postrouting  chainDump // nat POSTROUTING
	vpcPost      chainDump // nat VPCROUTE-POSTROUTING
	// recordedPolicy is the forward-policy state file's content, "" if none.
	recordedPolicy string
	// dockerUserCreated is true when the docker-user-created file exists.
	dockerUserCreated bool
}

// plan accumulates changes and notes.
type plan struct {
	changes []Change
	notes   []string
}

func (p *plan) add(c ...Change) { p.changes = append(p.changes, c...) }
func (p *plan) note(s string)   { p.notes = append(p.notes, s) }

// planApply computes the changes that bring the host from s to the rules in
// rs. It is pure: the executor carries the changes out in order. Chains are
// filled before they are jumped to, so no packet meets a half-built chain.
func planApply(s snapshot, rs ruleSet, forwardPolicyAccept bool) plan {
	var p plan
	tag := rs.tag
	if s.ipForward != "1" {
		p.add(Change{Op: OpSetSysctl, Key: sysctlIPForward, Value: "1"})
	}

	// filter: VPCROUTE-FORWARD, jumped from DOCKER-USER, jumped from FORWARD.
	if !s.filterChains[ChainVPCForward] {
		p.add(Change{Op: OpNewChain, Table: TableFilter, Chain: ChainVPCForward})
	}
	p.add(planRules(TableFilter, ChainVPCForward, s.vpcForward.rules, rs.forward, tag, false)...)
	if !s.filterChains[ChainDockerUser] {
		// The marker goes first: if we stop in between, Cleanup still
		// knows the chain may be ours (it checks the chain exists).
		p.add(Change{Op: OpWriteState, Key: stateDockerUser, Value: "created by vpcroute; Docker had not created it\n"},
			Change{Op: OpNewChain, Table: TableFilter, Chain: ChainDockerUser})
		p.note("created DOCKER-USER and a FORWARD jump to it because Docker has not; Docker adopts both when it starts")
	}
	p.add(planRules(TableFilter, ChainDockerUser, s.dockerUser.rules, []spec{jumpSpec(tag, ChainVPCForward)}, tag, false)...)
	dockerJumps := hasForeignJump(s.forward.rules, ChainDockerUser, tag)
	var fwd []spec
	if !dockerJumps {
		fwd = []spec{jumpSpec(tag, ChainDockerUser)}
	} else if s.dockerUserCreated {
		// Docker now jumps to DOCKER-USER itself: the chain is Docker's
		// from here on, and our own jump (removed below) is redundant.
		p.add(Change{Op: OpRemoveState, Key: stateDockerUser})
	}
	p.add(planRules(TableFilter, ChainForward, s.forward.rules, fwd, tag, false)...)

	// nat: VPCROUTE-POSTROUTING, jumped from the top of POSTROUTING.
	if !s.natChains[ChainVPCPostrouting] {
		p.add(Change{Op: OpNewChain, Table: TableNAT, Chain: ChainVPCPostrouting})
	}
	p.add(planRules(TableNAT, ChainVPCPostrouting, s.vpcPost.rules, rs.nat, tag, false)...)
	p.add(planRules(TableNAT, ChainPostrouting, s.postrouting.rules, []spec{jumpSpec(tag, ChainVPCPostrouting)}, tag, true)...)

	planPolicy(&p, s, forwardPolicyAccept)
	return p
}

// planCleanup computes the changes that remove everything tag owns. A chain
// of ours that holds someone else's rules is kept, with its jump, so those
// rules keep working; DOCKER-USER is deleted only if vpcroute created it,
// nobody else jumps to it and it is empty once our jump is gone.
func planCleanup(s snapshot, tag string) plan {
	var p plan

	// nat first: stop exempting traffic before the filter rules go.
	keepPost := s.natChains[ChainVPCPostrouting] && hasForeignRules(s.vpcPost.rules, tag)
	if keepPost {
		p.note("kept nat " + ChainVPCPostrouting + " and its jump: it holds rules vpcroute did not write")
	} else {
		p.add(planRules(TableNAT, ChainPostrouting, s.postrouting.rules, nil, tag, false)...)
	}
	p.add(planRules(TableNAT, ChainVPCPostrouting, s.vpcPost.rules, nil, tag, false)...)
	if s.natChains[ChainVPCPostrouting] && !keepPost {
		p.add(Change{Op: OpDeleteChain, Table: TableNAT, Chain: ChainVPCPostrouting})
	}

	keepFwd := s.filterChains[ChainVPCForward] && hasForeignRules(s.vpcForward.rules, tag)
	if keepFwd {
		p.note("kept filter " + ChainVPCForward + " and its jump: it holds rules vpcroute did not write")
	} else {
		p.add(planRules(TableFilter, ChainDockerUser, s.dockerUser.rules, nil, tag, false)...)
	}
	p.add(planRules(TableFilter, ChainVPCForward, s.vpcForward.rules, nil, tag, false)...)
	if s.filterChains[ChainVPCForward] && !keepFwd {
		p.add(Change{Op: OpDeleteChain, Table: TableFilter, Chain: ChainVPCForward})
	}

	// DOCKER-USER keeps our FORWARD jump while it holds rules that need it
	// (someone else's, or our kept jump) and nothing else jumps to it.
	dockerJumps := hasForeignJump(s.forward.rules, ChainDockerUser, tag)
	duBusy := keepFwd || hasForeignRules(s.dockerUser.rules, tag)
	if dockerJumps || !duBusy {
		p.add(planRules(TableFilter, ChainForward, s.forward.rules, nil, tag, false)...)
	} else if hasOwned(s.forward.rules, tag) {
		p.note("kept the FORWARD jump to DOCKER-USER: DOCKER-USER holds rules vpcroute did not write and nothing else jumps to it")
	}
	duExists := s.filterChains[ChainDockerUser]
	if s.dockerUserCreated {
		switch {
		case duExists && !dockerJumps && !duBusy:
			p.add(Change{Op: OpDeleteChain, Table: TableFilter, Chain: ChainDockerUser},
				Change{Op: OpRemoveState, Key: stateDockerUser})
		case !duExists || dockerJumps:
			p.add(Change{Op: OpRemoveState, Key: stateDockerUser})
		}
	}

	planPolicy(&p, s, false)
	return p
}

// planPolicy sets FORWARD to ACCEPT when asked, recording the old policy
// first, and otherwise restores a policy vpcroute changed earlier. A policy
// someone changed after us is theirs: we only drop our record of it.
func planPolicy(p *plan, s snapshot, accept bool) {
	cur := s.forward.policy
	switch {
	case accept && cur != "ACCEPT" && s.recordedPolicy == "":
		p.add(Change{Op: OpWriteState, Key: stateForwardPolicy, Value: cur + "\n"},
			Change{Op: OpSetPolicy, Table: TableFilter, Chain: ChainForward, Value: "ACCEPT"})
	case accept && cur != "ACCEPT":
		// Docker restarted and set DROP again; the first record stays.
		p.add(Change{Op: OpSetPolicy, Table: TableFilter, Chain: ChainForward, Value: "ACCEPT"})
	case !accept && s.recordedPolicy != "" && cur == "ACCEPT":
		p.add(Change{Op: OpSetPolicy, Table: TableFilter, Chain: ChainForward, Value: s.recordedPolicy},
			Change{Op: OpRemoveState, Key: stateForwardPolicy})
	case !accept && s.recordedPolicy != "":
		p.note("FORWARD policy is " + cur + ", changed by someone else since vpcroute set ACCEPT; left as is")
		p.add(Change{Op: OpRemoveState, Key: stateForwardPolicy})
	}
}

// planRules reconciles the rules tag owns in one chain with desired, in
// order, leaving every other rule alone. Deletes name the rule, not its
// position (iptables -D CHAIN RULE removes the first equal rule), so a rule
// inserted concurrently by Docker can never be deleted in its place; the
// plan models that first-match behaviour so its positions stay exact.
// Desired rules must be unique.
//
// Without pinTop it keeps the longest run of owned rules already in the
// right order, deletes the other owned rules and inserts each missing rule
// right after its predecessor. With pinTop the desired rules must be the
// chain's first rules; see planPinned.
func planRules(table, chain string, existing, desired []spec, tag string, pinTop bool) []Change {
	if !pinTop && ownedEqual(existing, desired, tag) {
		return nil // the steady state: nothing to compute
	}
	sim := &chainSim{table: table, chain: chain, rules: slices.Clone(existing)}
	if pinTop {
		planPinned(sim, desired, tag)
		return sim.out
	}
	// Duplicates first: iptables -D removes the first copy, so deleting
	// all but one copy leaves the last one, and from then on every owned
	// rule is unique and each delete hits exactly the rule planned.
	var dups []spec
	count := map[string]int{}
	for _, i := range ownedIndexes(sim.rules, tag) {
		k := sim.rules[i].String()
		count[k]++
		if count[k] > 1 {
			dups = append(dups, sim.rules[i])
		}
	}
	for _, r := range dups {
		sim.delete(r)
	}
	owned := ownedIndexes(sim.rules, tag)
	keep := lcsMatch(sim.rules, owned, desired)
	var stale []spec
	for _, i := range owned {
		if _, ok := keep[i]; !ok {
			stale = append(stale, sim.rules[i])
		}
	}
	for _, r := range stale {
		sim.delete(r)
	}
	// Indexes moved with the deletes; match again on what is left (all
	// of it is kept now).
	keep = lcsMatch(sim.rules, ownedIndexes(sim.rules, tag), desired)

	// label[i] is the desired index rule i satisfies, -1 for foreign rules.
	label := make([]int, len(sim.rules))
	have := make([]bool, len(desired))
	for i := range sim.rules {
		label[i] = -1
		if d, ok := keep[i]; ok {
			label[i] = d
			have[d] = true
		}
	}
	for d := range desired {
		if have[d] {
			continue
		}
		at := 0
		for i, w := range label {
			if w >= 0 && w < d {
				at = i + 1
			}
		}
		label = slices.Insert(label, at, d)
		sim.insert(at+1, desired[d])
	}
	return sim.out
}

// movingComment marks the temporary copies planPinned inserts. It cannot be
// a cluster's tag (parentheses are not allowed in cluster names).
const movingComment = "vpcroute:(moving)"

// movingCopy is r with the moving mark; it still carries r's tag, so a copy
// left behind by a crash is owned, and cleaned up, by the next run.
func movingCopy(r spec) spec {
	return append(slices.Clip(commentArgs(movingComment)), r...)
}

// planPinned makes desired the first rules of the chain. When they are not,
// it first inserts marked copies of them on top, then deletes every old
// owned rule, inserts the real rules on top and deletes the copies: the chain
// is never without the rules at its head (a gap would let Docker's
// MASQUERADE rewrite new flows, and conntrack would keep that NAT), and all
// deletes stay by content.
func planPinned(sim *chainSim, desired []spec, tag string) {
	n := len(desired)
	owned := ownedIndexes(sim.rules, tag)
	inPlace := len(owned) == n
	for i := 0; inPlace && i < n; i++ {
		inPlace = owned[i] == i && sim.rules[i].equal(desired[i])
	}
	if inPlace {
		return
	}
	if len(owned) == 0 {
		for i, d := range desired {
			sim.insert(i+1, d)
		}
		return
	}
	old := make([]spec, len(owned))
	for i, idx := range owned {
		old[i] = sim.rules[idx]
	}
	isMoving := func(r spec) bool { return r.ownedBy(movingComment) }
	// Leftover copies first, or their deletes would hit the new copies.
	for _, r := range old {
		if isMoving(r) {
			sim.delete(r)
		}
	}
	for i, d := range desired {
		sim.insert(i+1, movingCopy(d))
	}
	for _, r := range old {
		if !isMoving(r) {
			sim.delete(r)
		}
	}
	for i, d := range desired {
		sim.insert(i+1, d)
	}
	for _, d := range desired {
		sim.delete(movingCopy(d))
	}
}

// chainSim tracks a chain's rules while a plan is built, so that every
// change carries the position it will have.
type chainSim struct {
	table, chain string
	rules        []spec
	out          []Change
}

// insert puts r at 1-based position pos.
func (c *chainSim) insert(pos int, r spec) {
	c.rules = slices.Insert(c.rules, pos-1, r)
	c.out = append(c.out, Change{Op: OpInsertRule, Table: c.table, Chain: c.chain, Pos: pos, Rule: r})
}

// delete removes the first rule equal to r, as iptables -D does.
func (c *chainSim) delete(r spec) {
	i := slices.IndexFunc(c.rules, r.equal)
	if i < 0 {
		return
	}
	c.rules = slices.Delete(c.rules, i, i+1)
	c.out = append(c.out, Change{Op: OpDeleteRule, Table: c.table, Chain: c.chain, Pos: i + 1, Rule: r})
}

// ownedEqual reports whether the rules owned by tag are exactly desired, in
// order.
func ownedEqual(rules, desired []spec, tag string) bool {
	j := 0
	for _, r := range rules {
		if !r.ownedBy(tag) {
			continue
		}
		if j == len(desired) || !r.equal(desired[j]) {
			return false
		}
		j++
	}
	return j == len(desired)
}

// ownedIndexes returns the indexes of the rules owned by tag.
func ownedIndexes(rules []spec, tag string) []int {
	var out []int
	for i, r := range rules {
		if r.ownedBy(tag) {
			out = append(out, i)
		}
	}
	return out
}

// lcsMatch pairs the owned existing rules with desired rules along a longest
// common subsequence, so that as many rules as possible stay in place. The
// result maps an index of existing to an index of desired.
func lcsMatch(existing []spec, owned []int, desired []spec) map[int]int {
	n, m := len(owned), len(desired)
	l := make([][]int, n+1)
	for i := range l {
		l[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if existing[owned[i]].equal(desired[j]) {
				l[i][j] = l[i+1][j+1] + 1
			} else {
				l[i][j] = max(l[i+1][j], l[i][j+1])
			}
		}
	}
	keep := make(map[int]int)
	for i, j := 0, 0; i < n && j < m; {
		switch {
		case existing[owned[i]].equal(desired[j]):
			keep[owned[i]] = j
			i++
			j++
		case l[i+1][j] >= l[i][j+1]:
			i++
		default:
			j++
		}
	}
	return keep
}

// hasForeignJump reports whether a rule not owned by tag jumps to target.
func hasForeignJump(rules []spec, target, tag string) bool {
	return slices.ContainsFunc(rules, func(r spec) bool { return r.target() == target && !r.ownedBy(tag) })
}

// hasForeignRules reports whether any rule is not owned by tag.
func hasForeignRules(rules []spec, tag string) bool {
	return slices.ContainsFunc(rules, func(r spec) bool { return !r.ownedBy(tag) })
}

// hasOwned reports whether any rule is owned by tag.
func hasOwned(rules []spec, tag string) bool {
	return slices.ContainsFunc(rules, func(r spec) bool { return r.ownedBy(tag) })
}
