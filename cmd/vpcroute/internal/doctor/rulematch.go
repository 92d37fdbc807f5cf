package doctor

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/vpcroute/vpcroute/cloud"
)

// match is how much of a flow a rule's conditions cover.
type match int

const (
	// matchNone: the rule never sees the flow's packets.
	matchNone match = iota
	// matchPart: the rule may see some of them: it has conditions doctor
	// does not evaluate (a protocol, a port, a set) or an interface that
	// is unknown here.
	matchPart
	// matchSome: the rule surely sees the packets of some of the flow's
	// addresses (a narrower source or destination), and only those.
	matchSome
	// matchAll: the rule sees every new packet of the flow.
	matchAll
)

// flow is the traffic a chain walk follows: new connections from any
// address of src outside srcExclude to any address of dst outside
// dstExclude, entering by in and leaving by out ("" when the interface is
// unknown).
type flow struct {
	src, dst               netip.Prefix
	srcExclude, dstExclude []netip.Prefix
	in, out                string
}

// rule is one iptables rule, parsed just enough to tell which flows it
// matches and what it does with them.
type rule struct {
	args     []string
	src, dst addrCond
	in, out  ifaceCond
	// states is the conntrack/state match ("NEW,ESTABLISHED"), nil if none.
	states    []string
	statesNeg bool
	// other counts conditions doctor does not evaluate (-p, --dport, -m
	// set, ...): they narrow the rule to part of the flow at most.
	other int
	// target is the -j or -g target, goto whether it was -g.
	target string
	goTo   bool
}

// addrCond is a -s or -d condition.
type addrCond struct {
	set, neg bool
	p        netip.Prefix
	bad      bool // unparsable address: treated as an unknown condition
}

// ifaceCond is a -i or -o condition; a trailing "+" is a wildcard.
type ifaceCond struct {
	set, neg bool
	name     string
}

// parseRule reads the arguments of one rule as `iptables -S` prints them.
// Everything after the target belongs to the target (--reject-with, ...).
func parseRule(args []string) rule {
	r := rule{args: args}
	neg := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func() string {
			if i+1 < len(args) {
				i++
				return args[i]
			}
			return ""
		}
		switch a {
		case "!":
			neg = true
			continue
		case "-s", "--source":
			r.src = parseAddrCond(next(), neg)
		case "-d", "--destination":
			r.dst = parseAddrCond(next(), neg)
		case "-i", "--in-interface":
			r.in = ifaceCond{set: true, neg: neg, name: next()}
		case "-o", "--out-interface":
			r.out = ifaceCond{set: true, neg: neg, name: next()}
		case "-p", "--protocol":
			if p := next(); p != "all" || neg {
				r.other++
			}
		case "-m", "--match":
			next() // the module; its options are judged one by one
		case "--comment":
			next()
		case "--ctstate", "--state":
			r.states, r.statesNeg = strings.Split(next(), ","), neg
		case "-j", "--jump", "-g", "--goto":
			r.goTo = a == "-g" || a == "--goto"
			r.target = next()
			return r // the rest are the target's options
		default:
			// An option doctor does not evaluate; its values follow it
			// until the next option.
			r.other++
			for i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") && args[i+1] != "!" {
				i++
			}
		}
		neg = false
	}
	return r
}

// parseAddrCond parses "10.0.0.0/8" or "10.0.0.1" (iptables prints a single
// address with /32).
func parseAddrCond(s string, neg bool) addrCond {
	if p, err := netip.ParsePrefix(s); err == nil && p.Addr().Is4() {
		return addrCond{set: true, neg: neg, p: p.Masked()}
	}
	if a, err := netip.ParseAddr(s); err == nil && a.Is4() {
		return addrCond{set: true, neg: neg, p: netip.PrefixFrom(a, 32)}
	}
	return addrCond{set: true, neg: neg, bad: true}
}

// matches says how much of f the rule's conditions cover (the target is
// not considered).
func (r rule) matches(f flow) match {
	uncertain, subset := r.other > 0, false
	for _, part := range []match{
		r.src.covers(f.src, f.srcExclude),
		r.dst.covers(f.dst, f.dstExclude),
		r.in.covers(f.in),
		r.out.covers(f.out),
		r.statesCover(),
	} {
		switch part {
		case matchNone:
			return matchNone
		case matchPart:
			uncertain = true
		case matchSome:
			subset = true
		}
	}
	switch {
	case uncertain:
		return matchPart
	case subset:
		return matchSome
	}
	return matchAll
}

// covers says how much of the set "want minus exclude" the condition
// matches.
func (c addrCond) covers(want netip.Prefix, exclude []netip.Prefix) match {
	if !c.set {
		return matchAll
	}
	if c.bad {
		return matchPart
	}
	inside := cloud.PrefixContains(c.p, want)               // every address of want is in c.p
	disjoint := !c.p.Overlaps(want) || within(c.p, exclude) // no address of the flow is in c.p
	switch {
	case !c.neg && inside:
		return matchAll
	case !c.neg && disjoint:
		return matchNone
	case c.neg && inside:
		return matchNone
	case c.neg && disjoint:
		return matchAll
	}
	return matchSome
}

// covers says whether the interface condition matches the interface name
// ("" unknown: maybe).
func (c ifaceCond) covers(name string) match {
	if !c.set {
		return matchAll
	}
	if name == "" {
		return matchPart
	}
	hit := c.name == name || (strings.HasSuffix(c.name, "+") && strings.HasPrefix(name, strings.TrimSuffix(c.name, "+")))
	if hit != c.neg {
		return matchAll
	}
	return matchNone
}

// statesCover: a new connection is in state NEW.
func (r rule) statesCover() match {
	if r.states == nil {
		return matchAll
	}
	if slices.Contains(r.states, "NEW") != r.statesNeg {
		return matchAll
	}
	return matchNone
}

// within reports whether p lies inside one of ps.
func within(p netip.Prefix, ps []netip.Prefix) bool {
	for _, q := range ps {
		if cloud.PrefixContains(q, p) {
			return true
		}
	}
	return false
}
