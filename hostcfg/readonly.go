package hostcfg

import (
	"context"
	"fmt"
)

// ChainRules is one iptables chain as read, for read-only checks such as
// `vpcroute doctor`: every rule, vpcroute's and everyone else's, in order.
type ChainRules struct {
	// Exists is false when the chain is not in the table. Built-in chains
	// always exist.
	Exists bool `json:"exists"`
	// Policy is the chain's policy (built-in chains only).
	Policy string `json:"policy,omitempty"`
	// Rules are the rules in order, each as `iptables -S` prints it after
	// "-A CHAIN", one argument per element, quotes removed.
	Rules [][]string `json:"rules"`
}

// builtinChains are the built-in chains of the tables vpcroute reads: they
// list (empty, policy ACCEPT) even on an nf_tables table nobody used yet.
var builtinChains = map[string]map[string]bool{
	TableFilter: {"INPUT": true, ChainForward: true, "OUTPUT": true},
	TableNAT:    {"PREROUTING": true, "INPUT": true, "OUTPUT": true, ChainPostrouting: true},
}

// ReadChains reads the named chains of table in the network namespace the
// process runs in, changing nothing (iptables -S only). A chain that does
// not exist comes back with Exists false and no rules.
func ReadChains(ctx context.Context, table string, chains ...string) (map[string]ChainRules, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("read iptables %s: %w", table, err)
	}
	ipt, err := newIPTables()
	if err != nil {
		return nil, fmt.Errorf("read iptables %s: %w", table, err)
	}
	return readChainsWith(ipt, table, chains...)
}

// readChainsWith is ReadChains on the handle ipt.
func readChainsWith(ipt iptablesAPI, table string, chains ...string) (map[string]ChainRules, error) {
	exists, err := chainSet(ipt, table)
	if err != nil {
		return nil, err
	}
	out := make(map[string]ChainRules, len(chains))
	for _, c := range chains {
		if !exists[c] && !builtinChains[table][c] {
			out[c] = ChainRules{Rules: [][]string{}}
			continue
		}
		d, err := readChain(ipt, table, c)
		if err != nil {
			return nil, err
		}
		cr := ChainRules{Exists: true, Policy: d.policy, Rules: make([][]string, 0, len(d.rules))}
		for _, r := range d.rules {
			cr.Rules = append(cr.Rules, []string(r))
		}
		out[c] = cr
	}
	return out, nil
}

// FormatRule renders a rule's arguments as `iptables -S` prints them (after
// "-A CHAIN"), quoting arguments that need it, for messages and commands an
// operator can paste.
func FormatRule(args []string) string { return spec(args).String() }
