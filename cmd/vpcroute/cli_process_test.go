package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUnexpectedArgumentsExit2: a word where none belongs is bad input like
// a bad flag: exit 2, one line on stderr, nothing on stdout, before any
// setting is read.
func TestUnexpectedArgumentsExit2(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"sync", "extra"}, `vpcroute: unexpected argument "extra": vpcroute sync takes no arguments (flags start with --)`},
		{[]string{"plan", "--cluster-cidr", "10.0.0.0/8", "json"}, `vpcroute: unexpected argument "json": vpcroute plan takes no arguments`},
		{[]string{"cleanup", "now"}, `unexpected argument "now"`},
		{[]string{"daemon", "start"}, `unexpected argument "start"`},
		{[]string{"status", "all"}, `unexpected argument "all"`},
		{[]string{"doctor", "10.1.0.2"}, `unexpected argument "10.1.0.2"`},
		{[]string{"version", "--short", "x"}, "unknown flag: --short"},
		{[]string{"version", "x"}, `unexpected argument "x"`},
		{[]string{"options", "sync", "plan"}, "vpcroute options: accepts at most 1 arg(s), received 2"},
		{[]string{"completion", "bash", "extra"}, `unexpected argument "extra"`},
		{[]string{"completion", "tcsh"}, `vpcroute: unknown command "tcsh" for vpcroute completion: did you mean bash or fish or zsh?`},
		{[]string{"completion", "korn"}, `vpcroute: unknown command "korn" for vpcroute completion: expected one of bash, fish, powershell, zsh`},
		// gen-man is linked only with -tags genman (make man, make release).
		{[]string{"gen-man", "dir"}, `vpcroute: unknown command "gen-man" for vpcroute: expected one of `},
		{[]string{"synx"}, `vpcroute: unknown command "synx" for vpcroute: did you mean sync?`},
		{[]string{"status", "--provider", "aws"}, "it is a flag of allocate, daemon, doctor, plan, sync"},
		{[]string{"cleanup", "--subnet", "10.0.0.0/24"}, "unknown flag: --subnet (vpcroute cleanup does not take it; it is a flag of daemon, doctor, plan, sync)"},
	}
	// A config file that would fail if it were read: arguments are
	// checked first.
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("no-such-key: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := runBinary(t, []string{"VPCROUTE_CONFIG=" + bad}, tt.args...)
			if r.code != 2 || !strings.Contains(r.stderr, tt.want) || strings.Count(r.stderr, "\n") != 1 || r.stdout != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and one line with %q", r.code, r.stdout, r.stderr, tt.want)
			}
		})
	}
}

// TestPlanOutputs: plan prints its table without -o (and with the old
// -o table), and -o json prints a versioned document whose empty lists
// are [], never null.
func TestPlanOutputs(t *testing.T) {
	s := startSim(t, "50ms")
	plan := func(extra ...string) result {
		return s.vpcroute(t, "i-aaa", nil, append(append([]string{"plan"}, routesOnly("10.0.0.0/24")...), extra...)...)
	}
	r := plan("-o", "json")
	if r.code != 0 {
		t.Fatalf("plan -o json: exit %d: %s", r.code, r.stderr)
	}
	var doc struct {
		SchemaVersion string `json:"schemaVersion"`
		Cluster       string `json:"cluster"`
		Self          struct {
			ID string `json:"id"`
		} `json:"self"`
		Changes map[string][]json.RawMessage `json:"changes"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	if doc.SchemaVersion != "vpcroute.plan/v1" || doc.Cluster != "lab" || doc.Self.ID != "i-aaa" || len(doc.Changes["create"]) != 1 {
		t.Errorf("plan document: %s", r.stdout)
	}
	for _, list := range []string{`"delete": []`, `"inSync": []`, `"conflicts": []`, `"refused": []`, `"subnetCidrs": [`} {
		if !strings.Contains(r.stdout, list) {
			t.Errorf("plan -o json lacks %s", list)
		}
	}
	if strings.Contains(r.stdout, "null") {
		t.Errorf("plan -o json holds a null:\n%s", r.stdout)
	}

	table := plan()
	if table.code != 0 || !strings.Contains(table.stdout, "ACTION  TABLE    DESTINATION  TARGET") ||
		!strings.Contains(table.stdout, "create  vtb-lab  10.0.0.0/24  Instance/i-aaa") || !strings.Contains(table.stdout, "1 to create, 0 to delete") {
		t.Errorf("plan: exit %d: %s %s", table.code, table.stdout, table.stderr)
	}
	for _, o := range []string{"table", "text"} {
		if r := plan("-o", o); r.code != 0 || r.stdout != table.stdout {
			t.Errorf("plan -o %s: exit %d, differs from plan:\n%s", o, r.code, r.stdout)
		}
	}
	if r := plan("-o", "yaml"); r.code != 2 || strings.TrimSpace(r.stderr) != `vpcroute: output "yaml" is invalid: expected text or json` {
		t.Errorf("plan -o yaml: exit %d: %s", r.code, r.stderr)
	}
	if st := s.stats(t); st.Writes != 0 {
		t.Errorf("plan made %d write calls", st.Writes)
	}
}

// TestAWSWithoutMetadata: on EC2 without a metadata service, --instance-id
// and the region are enough; the rest of the identity comes from
// DescribeInstances, and sync routes to the primary ENI.
func TestAWSWithoutMetadata(t *testing.T) {
	s := startAWSSim(t)
	env := append(awsEnv(), "AWS_EC2_METADATA_DISABLED=true")
	args := func(cmd string, extra ...string) []string {
		return append([]string{cmd, "--provider", "aws", "--endpoint", s.url, "--instance-id", awsA,
			"--cluster-name", "lab", "--host-config=false", "--cluster-cidr", "10.0.0.0/8", "--subnet", "10.0.0.0/24",
			"--config", emptyConfig}, extra...)
	}
	r := runBinary(t, env, args("plan", "-o", "json")...)
	var doc struct {
		Self struct {
			PrivateIP string `json:"privateIp"`
			VPCID     string `json:"vpcId"`
			Region    string `json:"region"`
			Target    struct {
				ID string `json:"id"`
			} `json:"target"`
		} `json:"self"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); r.code != 0 || err != nil {
		t.Fatalf("plan: exit %d, %v: %s %s", r.code, err, r.stdout, r.stderr)
	}
	if got := doc.Self.PrivateIP + " " + doc.Self.VPCID + " " + doc.Self.Region + " " + doc.Self.Target.ID; got != "192.168.1.196 vpc-0a1b2c3d4e5f60001 eu-west-1 eni-0aaaaaaaaaaaaaaaa" {
		t.Errorf("identity without metadata = %s", got)
	}
	if r := runBinary(t, env, args("sync")...); r.code != 0 {
		t.Fatalf("sync: exit %d: %s", r.code, r.stderr)
	}
	if got := strings.Join(s.ownedAWS(t), " "); got != "10.0.0.0/24>eni-0aaaaaaaaaaaaaaaa:active" {
		t.Errorf("routes after sync = %s", got)
	}
	// --private-ip is a flag now; a bad one is bad input.
	if r := runBinary(t, env, args("sync", "--private-ip", "192.168.1")...); r.code != 2 ||
		!strings.Contains(r.stderr, `private-ip "192.168.1" is invalid: expected this host's private IPv4 address`) {
		t.Errorf("sync --private-ip 192.168.1: exit %d: %s", r.code, r.stderr)
	}
	// Without the instance ID there is nothing to describe: the error
	// says which flag is missing.
	r = runBinary(t, env, "plan", "--provider", "aws", "--endpoint", s.url, "--cluster-name", "lab", "--cluster-cidr", "10.0.0.0/8",
		"--subnet", "10.0.0.0/24", "--config", emptyConfig)
	if r.code != 1 || !strings.Contains(r.stderr, "(or give --instance-id)") {
		t.Errorf("plan without metadata and instance ID: exit %d: %s", r.code, r.stderr)
	}
}
