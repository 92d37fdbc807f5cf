package doctor

import (
	"strings"
	"testing"
)

func TestParsePeer(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{"10.1.0.2", "ip 10.1.0.2", ""},
		{"10.1.0.0/24", "cidr 10.1.0.0/24", ""},
		{"i-bp1abc", "instance i-bp1abc", ""},
		{"eni-0abc123", "instance eni-0abc123", ""},
		{"10.1.0.1/24", "", `peer "10.1.0.1/24" is invalid: host bits are set; expected 10.1.0.0/24`},
		{"fd00::1", "", `peer "fd00::1" is invalid: expected an IPv4 address`},
		{"10.1.0.0/33", "", `peer "10.1.0.0/33" is invalid: expected an IPv4 CIDR such as 10.1.0.0/24`},
		{"hostb", "", `peer "hostb" is invalid: expected a container IP on the other host (10.1.0.2), its subnet (10.1.0.0/24) or its instance ID (i-bp1...)`},
		{"", "", `peer "" is invalid: expected a container IP on the other host (10.1.0.2), its subnet (10.1.0.0/24) or its instance ID (i-bp1...)`},
	}
	for _, tt := range tests {
		p, err := ParsePeer(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("ParsePeer(%q) error = %v, want %s", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || p.Kind+" "+p.String() != tt.want {
			t.Errorf("ParsePeer(%q) = %s %s, %v; want %s", tt.in, p.Kind, p, err, tt.want)
		}
	}
}

func TestRoutesPeerResolution(t *testing.T) {
	mustPeer := func(s string) Peer {
		p, err := ParsePeer(s)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name   string
		peer   string
		change func(f *Facts)
		result Result
		cause  string
	}{
		{"by instance, registry", "i-bbb", nil, Pass,
			"peer i-bbb: 10.1.0.0/24 -> Instance/i-bbb in vtb-lab, owned by cluster lab, Available"},
		{"by subnet", "10.1.0.0/24", nil, Pass,
			"peer 10.1.0.0/24: 10.1.0.0/24 -> Instance/i-bbb in vtb-lab, owned by cluster lab, Available"},
		{"local address", "10.2.0.7", nil, Pass,
			"10.2.0.7 is in a local subnet of this host: no VPC route is involved"},
		{"from the tables without a registry", "10.1.0.9", func(f *Facts) {
			f.Others = OtherHosts{Known: true, Source: OthersTables, Claims: ownedClaims(*f, self)}
		}, Pass, "peer 10.1.0.9: 10.1.0.0/24 -> Instance/i-bbb in vtb-lab, owned by cluster lab, Available"},
		{"synced without the registry", "10.5.0.9", func(f *Facts) {
			f.Cloud.Tables["vtb-lab"] = append(f.Cloud.Tables["vtb-lab"], owned("10.5.0.0/24", cloudTarget("i-eee")))
		}, Pass, "peer 10.5.0.9: 10.5.0.0/24 -> Instance/i-eee in vtb-lab, owned by cluster lab, Available"},
		{"registered, route points elsewhere", "i-bbb", func(f *Facts) {
			f.Cloud.Tables["vtb-lab"][3] = unownedRoute("10.1.0.0/24", cloudTarget("i-zzz"), "")
		}, Fail, "10.1.0.0/24 in vtb-lab is held by Instance/i-zzz (an unnamed entry), which vpcroute does not own and will not change"},
		{"unknown instance", "i-nope", nil, Fail,
			"no host of cluster lab claims i-nope: neither the registry nor the route tables' owned entries know it"},
		{"unknown, tables only", "10.9.9.9", func(f *Facts) {
			f.Others = OtherHosts{Known: true, Source: OthersTables, Claims: ownedClaims(*f, self)}
		}, Fail, "no host of cluster lab claims 10.9.9.9: no route table entry owned by the cluster holds it"},
	}
	for _, tt := range tests {
		f := healthy()
		f.Peer = PeerFacts{Given: true, Peer: mustPeer(tt.peer)}
		if tt.change != nil {
			tt.change(&f)
		}
		c := checkRoutesPeer(f)
		if c.Result != tt.result || c.Cause != tt.cause {
			t.Errorf("%s: %s %q, want %s %q", tt.name, c.Result, c.Cause, tt.result, tt.cause)
		}
	}
	f := healthy()
	f.Peer = PeerFacts{}
	if c := checkRoutesPeer(f); c.Result != Skip || !strings.Contains(c.Cause, "no --peer given") {
		t.Errorf("without --peer: %s %q", c.Result, c.Cause)
	}
}
