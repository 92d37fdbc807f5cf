package main

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"
	"go.uber.org/zap"

	"github.com/vpcroute/vpcroute/cloud/sim"
)

func TestOptionsValidate(t *testing.T) {
	cases := []struct {
		args []string
		want string // "" means valid
	}{
		{nil, ""},
		{[]string{"--listen", "127.0.0.1:0", "--listen", "unix:/tmp/x.sock", "--pending-delay", "0"}, ""},
		{[]string{"--conflict-code", "alternate", "--signature", "ignore", "--log-format", "json"}, ""},
		{[]string{"--listen", "bogus"}, `--listen="bogus": expected HOST:PORT`},
		{[]string{"--pending-delay", "-1s"}, `--pending-delay="-1s"`},
		{[]string{"--latency", "-5ms"}, `--latency="-5ms"`},
		{[]string{"--quota", "0"}, `--quota="0": expected a positive number`},
		{[]string{"--conflict-code", "Busy"}, `--conflict-code="Busy"`},
		{[]string{"--signature", "maybe"}, `--signature="maybe"`},
		{[]string{"--log-level", "loud"}, `--log-level="loud"`},
		{[]string{"--log-format", "xml"}, `--log-format="xml": expected console or json`},
		{[]string{"--topology-default", "aws", "--metadata-listen", "i-0aaaaaaaaaaaaaaaa=127.0.0.1:0", "--metadata-listen", "i-b=unix:/tmp/b.sock"}, ""},
		{[]string{"--topology-default", "gcp"}, `--topology-default="gcp": expected aliyun or aws`},
		{[]string{"--topology-default", "aws", "--topology", "t.yaml"}, `--topology-default="aws": expected no --topology-default with --topology`},
		{[]string{"--metadata-listen", "127.0.0.1:0"}, `--metadata-listen="127.0.0.1:0": expected INSTANCE=HOST:PORT`},
		{[]string{"--metadata-listen", "i-a=nowhere"}, `--metadata-listen="i-a=nowhere"`},
		{[]string{"--metadata-listen", "i-a=127.0.0.1:0", "--metadata-listen", "i-a=127.0.0.1:0"}, "one listener per instance"},
	}
	for _, tc := range cases {
		o := defaultOptions()
		fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
		o.bind(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatalf("%v: parse: %v", tc.args, err)
		}
		err := o.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v: unexpected error %v", tc.args, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%v: error %v, want one mentioning %q", tc.args, err, tc.want)
		}
	}
}

func TestTopologyDefaultAWS(t *testing.T) {
	o := defaultOptions()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	o.bind(fs)
	if err := fs.Parse([]string{"--topology-default", "aws", "--quota", "9"}); err != nil {
		t.Fatal(err)
	}
	topo, err := o.topology()
	if err != nil {
		t.Fatal(err)
	}
	s, err := sim.New(topo, o.simOptions(zap.NewNop())...)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Provider() != sim.ProviderAWS || s.Behaviour().Quota != 9 || s.Behaviour().Throttle.Writes != sim.EC2MutatingBucket {
		t.Errorf("provider %s, behaviour %+v", s.Provider(), s.Behaviour())
	}
	if topo, err := sim.ParseTopology(o.defaultTopologyYAML()); err != nil || topo.Provider != sim.ProviderAWS {
		t.Errorf("printed AWS topology: %v, %v", topo.Provider, err)
	}
}

func TestOverridesOnlyWhenGiven(t *testing.T) {
	o := defaultOptions()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	o.bind(fs)
	if err := fs.Parse([]string{"--quota", "7"}); err != nil {
		t.Fatal(err)
	}
	topo, err := o.topology()
	if err != nil {
		t.Fatal(err)
	}
	s, err := sim.New(topo, o.simOptions(zap.NewNop())...)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b := s.Behaviour()
	// The default topology says 2s; an absent --pending-delay keeps it.
	if b.Quota != 7 || b.PendingDelay == nil || b.PendingDelay.Seconds() != 2 || b.Latency != 0 {
		t.Errorf("behaviour = %+v", b)
	}
}
