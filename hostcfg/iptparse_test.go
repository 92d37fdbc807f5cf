package hostcfg

import (
	"slices"
	"strings"
	"testing"
)

func TestSplitRule(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{`-A X -s 10.0.0.0/8 -j ACCEPT`, []string{"-A", "X", "-s", "10.0.0.0/8", "-j", "ACCEPT"}, false},
		{`-A X -m comment --comment "vpcroute:default" -j Y`, []string{"-A", "X", "-m", "comment", "--comment", "vpcroute:default", "-j", "Y"}, false},
		{`-A X -m comment --comment "two words" -j Y`, []string{"-A", "X", "-m", "comment", "--comment", "two words", "-j", "Y"}, false},
		{`-A X -m comment --comment "say \"hi\" \\o/"`, []string{"-A", "X", "-m", "comment", "--comment", `say "hi" \o/`}, false},
		{`-A X -m comment --comment ""`, []string{"-A", "X", "-m", "comment", "--comment", ""}, false},
		{`  -P   FORWARD  DROP  `, []string{"-P", "FORWARD", "DROP"}, false},
		{`-A X --comment "open`, nil, true},
	}
	for _, tt := range tests {
		got, err := splitRule(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("splitRule(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if !tt.wantErr && !slices.Equal(got, tt.want) {
			t.Errorf("splitRule(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSpecStringRoundTrip(t *testing.T) {
	for _, s := range []spec{
		{"-s", "10.0.0.0/8", "-j", "ACCEPT"},
		{"-m", "comment", "--comment", "a b", "-j", "X"},
		{"-m", "comment", "--comment", `q"uo\te`, "-j", "X"},
		{"-m", "comment", "--comment", "", "-j", "X"},
	} {
		back, err := splitRule(s.String())
		if err != nil || !slices.Equal(back, s) {
			t.Errorf("splitRule(%q) = %q, %v; want %q", s.String(), back, err, []string(s))
		}
	}
}

func TestParseChain(t *testing.T) {
	// Output of `iptables -S FORWARD` next to a dockerd, as go-iptables
	// returns it.
	forward := []string{
		"-P FORWARD DROP",
		"-A FORWARD -j DOCKER-USER",
		"-A FORWARD -m comment --comment \"vpcroute:default\" -j DOCKER-USER",
		"-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
		"",
	}
	d, err := parseChain("FORWARD", forward)
	if err != nil {
		t.Fatal(err)
	}
	if d.policy != "DROP" || len(d.rules) != 3 {
		t.Fatalf("parseChain = policy %q, %d rules; want DROP, 3", d.policy, len(d.rules))
	}
	tag := Tag("default")
	if d.rules[0].ownedBy(tag) || !d.rules[1].ownedBy(tag) || d.rules[2].ownedBy(tag) {
		t.Errorf("ownership wrong: %v", d.rules)
	}
	if d.rules[0].target() != "DOCKER-USER" || d.rules[2].target() != "ACCEPT" {
		t.Errorf("targets wrong: %v", d.rules)
	}
	if Tag("other") == tag || d.rules[1].ownedBy(Tag("other")) {
		t.Error("a rule of cluster default is owned by cluster other")
	}

	user, err := parseChain("VPCROUTE-FORWARD", []string{"-N VPCROUTE-FORWARD", "-A VPCROUTE-FORWARD -s 10.0.0.0/24 -j RETURN"})
	if err != nil || user.policy != "" || len(user.rules) != 1 {
		t.Fatalf("user chain = %+v, %v", user, err)
	}

	for _, bad := range [][]string{
		{"-A OTHER -j ACCEPT"},
		{"-P FORWARD"},
		{"-X FORWARD"},
		{`-A FORWARD --comment "x`},
	} {
		if _, err := parseChain("FORWARD", bad); err == nil {
			t.Errorf("parseChain(%q) succeeded, want an error", bad)
		} else if strings.Contains(err.Error(), "\n") {
			t.Errorf("multi-line error %q", err)
		}
	}
}
