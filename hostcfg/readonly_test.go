package hostcfg

import (
	"reflect"
	"testing"
)

func TestReadChainsWith(t *testing.T) {
	f := newFakeIPT()
	if err := f.NewChain(TableFilter, ChainDockerUser); err != nil {
		t.Fatal(err)
	}
	if err := f.Insert(TableFilter, ChainDockerUser, 1, "-d", "10.2.0.0/24", "-j", "DROP"); err != nil {
		t.Fatal(err)
	}
	if err := f.Insert(TableFilter, ChainForward, 1, "-m", "comment", "--comment", "a b", "-j", ChainDockerUser); err != nil {
		t.Fatal(err)
	}
	if err := f.ChangePolicy(TableFilter, ChainForward, "DROP"); err != nil {
		t.Fatal(err)
	}
	got, err := readChainsWith(f, TableFilter, ChainForward, ChainDockerUser, ChainVPCForward)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]ChainRules{
		ChainForward:    {Exists: true, Policy: "DROP", Rules: [][]string{{"-m", "comment", "--comment", "a b", "-j", ChainDockerUser}}},
		ChainDockerUser: {Exists: true, Rules: [][]string{{"-d", "10.2.0.0/24", "-j", "DROP"}}},
		ChainVPCForward: {Rules: [][]string{}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("readChainsWith:\n got %#v\nwant %#v", got, want)
	}
	if s := FormatRule(got[ChainForward].Rules[0]); s != `-m comment --comment "a b" -j DOCKER-USER` {
		t.Errorf("FormatRule = %s", s)
	}
	// Built-in chains of a table nobody used still read, empty.
	nat, err := readChainsWith(f, TableNAT, ChainPostrouting, ChainVPCPostrouting)
	if err != nil {
		t.Fatal(err)
	}
	if p := nat[ChainPostrouting]; !p.Exists || p.Policy != "ACCEPT" || len(p.Rules) != 0 || nat[ChainVPCPostrouting].Exists {
		t.Errorf("nat chains: %#v", nat)
	}
}
