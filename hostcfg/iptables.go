package hostcfg

import (
	"errors"
	"fmt"

	"github.com/coreos/go-iptables/iptables"

	"github.com/vpcroute/vpcroute/internal/textline"
)

// iptablesAPI is the narrow part of go-iptables hostcfg uses.
type iptablesAPI interface {
	ListChains(table string) ([]string, error)
	List(table, chain string) ([]string, error)
	NewChain(table, chain string) error
	DeleteChain(table, chain string) error
	Insert(table, chain string, pos int, rulespec ...string) error
	Delete(table, chain string, rulespec ...string) error
	ChangePolicy(table, chain, target string) error
}

// lockWaitSeconds bounds how long iptables waits for the xtables lock that
// Docker and other tools also take.
const lockWaitSeconds = 10

// newIPTables returns go-iptables for IPv4 with a bounded lock wait.
func newIPTables() (iptablesAPI, error) {
	ipt, err := iptables.New(iptables.IPFamily(iptables.ProtocolIPv4), iptables.Timeout(lockWaitSeconds))
	if err != nil {
		return nil, fmt.Errorf("iptables: %w", err)
	}
	return oneLineIPTables{ipt}, nil
}

// oneLineIPTables makes go-iptables' errors fit on one line: they end with
// iptables' stderr, newline included.
type oneLineIPTables struct{ ipt *iptables.IPTables }

func (o oneLineIPTables) ListChains(table string) ([]string, error) {
	out, err := o.ipt.ListChains(table)
	return out, oneLine(err)
}

func (o oneLineIPTables) List(table, chain string) ([]string, error) {
	out, err := o.ipt.List(table, chain)
	return out, oneLine(err)
}

func (o oneLineIPTables) NewChain(table, chain string) error {
	return oneLine(o.ipt.NewChain(table, chain))
}

func (o oneLineIPTables) DeleteChain(table, chain string) error {
	return oneLine(o.ipt.DeleteChain(table, chain))
}

func (o oneLineIPTables) Insert(table, chain string, pos int, rulespec ...string) error {
	return oneLine(o.ipt.Insert(table, chain, pos, rulespec...))
}

func (o oneLineIPTables) Delete(table, chain string, rulespec ...string) error {
	return oneLine(o.ipt.Delete(table, chain, rulespec...))
}

func (o oneLineIPTables) ChangePolicy(table, chain, target string) error {
	return oneLine(o.ipt.ChangePolicy(table, chain, target))
}

// oneLine wraps err so that its message has no line breaks.
func oneLine(err error) error {
	if err == nil {
		return nil
	}
	return oneLineError{err}
}

type oneLineError struct{ err error }

func (e oneLineError) Error() string { return textline.Join(e.err.Error(), " ") }
func (e oneLineError) Unwrap() error { return e.err }

// readSnapshot reads the chains, the FORWARD policy, ip_forward and the
// state files that the plans need.
func readSnapshot(ipt iptablesAPI, opts Options) (snapshot, error) {
	var s snapshot
	var err error
	if s.filterChains, err = chainSet(ipt, TableFilter); err != nil {
		return s, err
	}
	if s.natChains, err = chainSet(ipt, TableNAT); err != nil {
		return s, err
	}
	for _, c := range []struct {
		table, chain string
		dst          *chainDump
		builtin      bool
	}{
		{TableFilter, ChainForward, &s.forward, true},
		{TableFilter, ChainDockerUser, &s.dockerUser, false},
		{TableFilter, ChainVPCForward, &s.vpcForward, false},
		{TableNAT, ChainPostrouting, &s.postrouting, true},
		{TableNAT, ChainVPCPostrouting, &s.vpcPost, false},
	} {
		exists := s.filterChains[c.chain]
		if c.table == TableNAT {
			exists = s.natChains[c.chain]
		}
		// On nf_tables a table nobody used yet has no chains at all, but
		// its built-in chains still list (empty, policy ACCEPT).
		if !exists && !c.builtin {
			continue
		}
		if *c.dst, err = readChain(ipt, c.table, c.chain); err != nil {
			return s, err
		}
	}
	if s.forward.policy == "" {
		return s, fmt.Errorf("iptables -S %s printed no policy", ChainForward)
	}
	if s.ipForward, err = readSysctl(opts.ProcSys, sysctlIPForward); err != nil {
		return s, err
	}
	st := stateDir(opts.StateDir)
	if s.recordedPolicy, _, err = st.read(stateForwardPolicy); err != nil {
		return s, err
	}
	if p := s.recordedPolicy; p != "" && p != "DROP" && p != "ACCEPT" {
		return s, fmt.Errorf("state file %s/%s holds %q; expected the FORWARD policy to restore, DROP or ACCEPT", opts.StateDir, stateForwardPolicy, p)
	}
	if _, s.dockerUserCreated, err = st.read(stateDockerUser); err != nil {
		return s, err
	}
	return s, nil
}

// chainSet lists the chains of table.
func chainSet(ipt iptablesAPI, table string) (map[string]bool, error) {
	names, err := ipt.ListChains(table)
	if err != nil {
		return nil, fmt.Errorf("list chains of table %s: %w", table, err)
	}
	set := make(map[string]bool, len(names))
	for _, n := range names {
		set[n] = true
	}
	return set, nil
}

// readChain lists and parses one chain.
func readChain(ipt iptablesAPI, table, chain string) (chainDump, error) {
	lines, err := ipt.List(table, chain)
	if err != nil {
		return chainDump{}, fmt.Errorf("list %s/%s: %w", table, chain, err)
	}
	d, err := parseChain(chain, lines)
	if err != nil {
		return chainDump{}, fmt.Errorf("list %s/%s: %w", table, chain, err)
	}
	return d, nil
}

// execute carries out one change.
func execute(ipt iptablesAPI, opts Options, c Change) error {
	st := stateDir(opts.StateDir)
	switch c.Op {
	case OpSetSysctl:
		return writeSysctl(opts.ProcSys, c.Key, c.Value)
	case OpNewChain:
		return ipt.NewChain(c.Table, c.Chain)
	case OpDeleteChain:
		return ipt.DeleteChain(c.Table, c.Chain)
	case OpInsertRule:
		return ipt.Insert(c.Table, c.Chain, c.Pos, c.Rule...)
	case OpDeleteRule:
		err := ipt.Delete(c.Table, c.Chain, c.Rule...)
		if isNotExist(err) {
			// Gone already (someone else cleaned up): that was the goal.
			return nil
		}
		return err
	case OpSetPolicy:
		return ipt.ChangePolicy(c.Table, c.Chain, c.Value)
	case OpWriteState:
		return st.write(c.Key, c.Value)
	case OpRemoveState:
		return st.remove(c.Key)
	}
	return fmt.Errorf("unknown change %q", c.Op)
}

// isNotExist reports whether iptables said the rule or chain does not exist.
func isNotExist(err error) bool {
	var e interface{ IsNotExist() bool }
	return errors.As(err, &e) && e.IsNotExist()
}
