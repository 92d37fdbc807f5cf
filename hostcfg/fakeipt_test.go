package hostcfg

import (
	"fmt"
	"slices"
	"strings"
)

// fakeIPT is an in-memory iptables with the semantics hostcfg relies on:
// chains must exist, jumps need their target, a chain can only be deleted
// when empty and unreferenced, positions are 1-based. List prints comments
// quoted, as iptables-nft does.
type fakeIPT struct {
	tables map[string]*fakeTable
	// beforeDelete, when set, runs before each Delete; tests use it to
	// edit a chain "concurrently".
	beforeDelete func(f *fakeIPT)
	calls        []string
}

type fakeTable struct {
	order  []string
	policy map[string]string // built-in chains only
	rules  map[string][]spec
}

func newFakeIPT() *fakeIPT {
	f := &fakeIPT{tables: map[string]*fakeTable{}}
	for table, builtins := range map[string][]string{
		TableFilter: {"INPUT", "FORWARD", "OUTPUT"},
		TableNAT:    {"PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"},
	} {
		t := &fakeTable{policy: map[string]string{}, rules: map[string][]spec{}}
		for _, c := range builtins {
			t.order = append(t.order, c)
			t.policy[c] = "ACCEPT"
		}
		f.tables[table] = t
	}
	return f
}

func (f *fakeIPT) table(name string) (*fakeTable, error) {
	t, ok := f.tables[name]
	if !ok {
		return nil, fmt.Errorf("fake: no table %s", name)
	}
	return t, nil
}

func (f *fakeIPT) chain(table, chain string) (*fakeTable, error) {
	t, err := f.table(table)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(t.order, chain) {
		return nil, fmt.Errorf("fake: no chain %s/%s", table, chain)
	}
	return t, nil
}

func (f *fakeIPT) ListChains(table string) ([]string, error) {
	t, err := f.table(table)
	if err != nil {
		return nil, err
	}
	return slices.Clone(t.order), nil
}

func render(r spec) string {
	out := make([]string, len(r))
	for i, tok := range r {
		if i > 0 && r[i-1] == "--comment" {
			tok = `"` + tok + `"`
		}
		out[i] = tok
	}
	return strings.Join(out, " ")
}

func (f *fakeIPT) List(table, chain string) ([]string, error) {
	t, err := f.chain(table, chain)
	if err != nil {
		return nil, err
	}
	var out []string
	if p, ok := t.policy[chain]; ok {
		out = append(out, "-P "+chain+" "+p)
	} else {
		out = append(out, "-N "+chain)
	}
	for _, r := range t.rules[chain] {
		out = append(out, "-A "+chain+" "+render(r))
	}
	return out, nil
}

func (f *fakeIPT) NewChain(table, chain string) error {
	f.calls = append(f.calls, "new "+table+"/"+chain)
	t, err := f.table(table)
	if err != nil {
		return err
	}
	if slices.Contains(t.order, chain) {
		return fmt.Errorf("fake: chain %s/%s exists", table, chain)
	}
	t.order = append(t.order, chain)
	return nil
}

func (f *fakeIPT) DeleteChain(table, chain string) error {
	f.calls = append(f.calls, "delete "+table+"/"+chain)
	t, err := f.chain(table, chain)
	if err != nil {
		return err
	}
	if _, builtin := t.policy[chain]; builtin {
		return fmt.Errorf("fake: cannot delete built-in chain %s", chain)
	}
	if len(t.rules[chain]) > 0 {
		return fmt.Errorf("fake: chain %s/%s is not empty", table, chain)
	}
	for c, rules := range t.rules {
		for _, r := range rules {
			if r.target() == chain {
				return fmt.Errorf("fake: chain %s/%s is referenced from %s", table, chain, c)
			}
		}
	}
	t.order = slices.DeleteFunc(t.order, func(c string) bool { return c == chain })
	delete(t.rules, chain)
	return nil
}

func (f *fakeIPT) Insert(table, chain string, pos int, rulespec ...string) error {
	f.calls = append(f.calls, fmt.Sprintf("insert %s/%s %d %s", table, chain, pos, spec(rulespec)))
	t, err := f.chain(table, chain)
	if err != nil {
		return err
	}
	r := spec(slices.Clone(rulespec))
	if tgt := r.target(); tgt != "" && tgt == strings.ToUpper(tgt) && strings.Contains(tgt, "-") && !slices.Contains(t.order, tgt) {
		return fmt.Errorf("fake: jump to missing chain %s", tgt)
	}
	if pos < 1 || pos > len(t.rules[chain])+1 {
		return fmt.Errorf("fake: index of insertion too big: %d", pos)
	}
	t.rules[chain] = slices.Insert(t.rules[chain], pos-1, r)
	return nil
}

// fakeNotExist is what iptables -D says about a missing rule.
type fakeNotExist struct{ msg string }

func (e fakeNotExist) Error() string    { return e.msg }
func (e fakeNotExist) IsNotExist() bool { return true }

func (f *fakeIPT) Delete(table, chain string, rulespec ...string) error {
	if f.beforeDelete != nil {
		f.beforeDelete(f)
	}
	f.calls = append(f.calls, fmt.Sprintf("delete %s/%s %s", table, chain, spec(rulespec)))
	t, err := f.chain(table, chain)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(t.rules[chain], spec(rulespec).equal)
	if i < 0 {
		return fakeNotExist{"Bad rule (does a matching rule exist in that chain?)."}
	}
	t.rules[chain] = slices.Delete(t.rules[chain], i, i+1)
	return nil
}

func (f *fakeIPT) ChangePolicy(table, chain, target string) error {
	f.calls = append(f.calls, "policy "+table+"/"+chain+" "+target)
	t, err := f.chain(table, chain)
	if err != nil {
		return err
	}
	if _, ok := t.policy[chain]; !ok {
		return fmt.Errorf("fake: %s has no policy", chain)
	}
	t.policy[chain] = target
	return nil
}

// mustRule adds a rule, splitting s like a shell would (no quotes needed in
// tests), appending when pos is 0.
func (f *fakeIPT) mustRule(table, chain string, pos int, s string) {
	t := f.tables[table]
	if !slices.Contains(t.order, chain) {
		t.order = append(t.order, chain)
	}
	r := spec(strings.Fields(s))
	if pos == 0 {
		t.rules[chain] = append(t.rules[chain], r)
	} else {
		t.rules[chain] = slices.Insert(t.rules[chain], pos-1, r)
	}
}

// dump renders the whole fake like iptables-save without counters, for
// before/after comparisons.
func (f *fakeIPT) dump() string {
	var b strings.Builder
	for _, name := range []string{TableFilter, TableNAT} {
		t := f.tables[name]
		fmt.Fprintf(&b, "*%s\n", name)
		for _, c := range t.order {
			if p, ok := t.policy[c]; ok {
				fmt.Fprintf(&b, ":%s %s\n", c, p)
			} else {
				fmt.Fprintf(&b, ":%s -\n", c)
			}
		}
		for _, c := range t.order {
			for _, r := range t.rules[c] {
				fmt.Fprintf(&b, "-A %s %s\n", c, render(r))
			}
		}
	}
	return b.String()
}

// withDocker loads the rules dockerd 20.10 writes with --bip 10.0.0.1/24
// (captured from a real daemon in a network namespace).
func (f *fakeIPT) withDocker() *fakeIPT {
	f.tables[TableFilter].policy[ChainForward] = "DROP"
	f.tables[TableFilter].order = append(f.tables[TableFilter].order, "DOCKER", "DOCKER-ISOLATION-STAGE-1", "DOCKER-ISOLATION-STAGE-2", "DOCKER-USER")
	for _, r := range []string{
		"FORWARD -j DOCKER-USER",
		"FORWARD -j DOCKER-ISOLATION-STAGE-1",
		"FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
		"FORWARD -o docker0 -j DOCKER",
		"FORWARD -i docker0 ! -o docker0 -j ACCEPT",
		"FORWARD -i docker0 -o docker0 -j ACCEPT",
		"DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2",
		"DOCKER-ISOLATION-STAGE-1 -j RETURN",
		"DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP",
		"DOCKER-ISOLATION-STAGE-2 -j RETURN",
		"DOCKER-USER -j RETURN",
	} {
		chain, rest, _ := strings.Cut(r, " ")
		f.mustRule(TableFilter, chain, 0, rest)
	}
	f.tables[TableNAT].order = append(f.tables[TableNAT].order, "DOCKER")
	for _, r := range []string{
		"PREROUTING -m addrtype --dst-type LOCAL -j DOCKER",
		"OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER",
		"POSTROUTING -s 10.0.0.0/24 ! -o docker0 -j MASQUERADE",
		"DOCKER -i docker0 -j RETURN",
	} {
		chain, rest, _ := strings.Cut(r, " ")
		f.mustRule(TableNAT, chain, 0, rest)
	}
	return f
}
