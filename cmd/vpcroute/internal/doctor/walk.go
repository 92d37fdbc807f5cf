package doctor

import (
	"fmt"

	"github.com/vpcroute/vpcroute/hostcfg"
)

// hop names one rule: its chain and 1-based position.
type hop struct {
	chain string
	pos   int
	args  []string
}

// short renders the hop as "CHAIN #N".
func (h hop) short() string { return fmt.Sprintf("%s #%d", h.chain, h.pos) }

// String renders the hop as "CHAIN #N (rule)".
func (h hop) String() string {
	return fmt.Sprintf("%s #%d (%s)", h.chain, h.pos, hostcfg.FormatRule(h.args))
}

// Outcomes of a chain walk.
type outcome int

const (
	// outPolicy: no rule decided; the built-in chain's policy does.
	outPolicy outcome = iota
	// outAccept: a rule accepted every new packet of the flow.
	outAccept
	// outBlock: a DROP/REJECT matched every new packet of the flow.
	outBlock
	// outRewrite: a MASQUERADE/SNAT rewrote the flow's source (nat).
	outRewrite
)

// walkResult is where the flow ends and what it met on the way.
type walkResult struct {
	out outcome
	by  hop
	// subset are blocking rules (DROP/REJECT in filter, MASQUERADE/SNAT
	// in nat) that surely match some of the flow's addresses before the
	// decision; partial those that may match part of it (conditions
	// doctor does not evaluate).
	subset, partial []hop
	// jumped records the chains the flow entered.
	jumped map[string]bool
}

// walker follows a flow through chains the way the kernel does: rules in
// order, jumps into the chains it has read (other jumps are not followed:
// their rules are unknown), RETURN back to the caller, the policy at the
// end of the built-in chain. blocking are the targets that stop the flow.
type walker struct {
	chains   map[string]hostcfg.ChainRules
	blocking map[string]outcome
}

// walk starts the flow at the built-in chain start.
func (w walker) walk(start string, f flow) walkResult {
	res := walkResult{jumped: map[string]bool{}}
	w.chain(start, f, &res, 0)
	return res
}

// chain walks one chain; it returns true when the walk is decided.
func (w walker) chain(name string, f flow, res *walkResult, depth int) bool {
	res.jumped[name] = true
	for i, args := range w.chains[name].Rules {
		r := parseRule(args)
		m := r.matches(f)
		if m == matchNone {
			continue
		}
		h := hop{chain: name, pos: i + 1, args: args}
		if o, ok := w.blocking[r.target]; ok {
			switch m {
			case matchAll:
				res.out, res.by = o, h
				return true
			case matchSome:
				res.subset = append(res.subset, h)
			default:
				res.partial = append(res.partial, h)
			}
			continue
		}
		switch r.target {
		case "ACCEPT":
			if m == matchAll {
				res.out, res.by = outAccept, h
				return true
			}
		case "RETURN":
			if m == matchAll {
				if depth == 0 {
					// RETURN in a built-in chain applies its policy.
					res.out, res.by = outPolicy, h
					return true
				}
				return false
			}
		default:
			sub, known := w.chains[r.target]
			if !known || !sub.Exists || m != matchAll || depth > 8 {
				continue
			}
			if w.chain(r.target, f, res, depth+1) {
				return true
			}
			if r.goTo {
				return false // a goto returns to our caller
			}
		}
	}
	if depth == 0 {
		res.out = outPolicy
	}
	return depth == 0
}
