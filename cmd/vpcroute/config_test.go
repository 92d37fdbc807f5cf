package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// testFlags returns options at their defaults and every shared flag.
func testFlags() (*options, *pflag.FlagSet) { return newOptions() }

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBindSourcesPrecedence(t *testing.T) {
	cfg := writeConfig(t, "cluster-cidr: 10.0.0.0/8\ncluster-name: fromfile\nroute-table: [vtb-a, vtb-b]\nlog-level: debug\n")
	o, fs := testFlags()
	if err := fs.Parse([]string{"--cluster-name", "fromflag"}); err != nil {
		t.Fatal(err)
	}
	e := env(map[string]string{"VPCROUTE_LOG_LEVEL": "warn", "VPCROUTE_SUBNET": "10.1.0.0/24, 10.2.0.0/24"})
	if err := bindSources(fs, flagNames(fs), cfg, true, e); err != nil {
		t.Fatal(err)
	}
	if o.ClusterName != "fromflag" {
		t.Errorf("flag must win: cluster-name = %q", o.ClusterName)
	}
	if o.LogLevel != "warn" {
		t.Errorf("env must win over file: log-level = %q", o.LogLevel)
	}
	if o.ClusterCIDR != "10.0.0.0/8" {
		t.Errorf("file value lost: cluster-cidr = %q", o.ClusterCIDR)
	}
	if strings.Join(o.RouteTables, ",") != "vtb-a,vtb-b" {
		t.Errorf("route-table from YAML list = %v", o.RouteTables)
	}
	if strings.Join(o.Subnets, ",") != "10.1.0.0/24,10.2.0.0/24" {
		t.Errorf("subnet from comma list = %v", o.Subnets)
	}
}

func TestBindSourcesErrors(t *testing.T) {
	tests := []struct {
		name, config string
		explicit     bool
		env          map[string]string
		want         string
	}{
		{"unknown key", "cluster-cidrs: 10.0.0.0/8\n", true, nil, `key "cluster-cidrs" is unknown`},
		{"bad yaml", "cluster-cidr: [\n", true, nil, "not valid YAML"},
		{"list for scalar", "cluster-cidr: [10.0.0.0/8, 11.0.0.0/8]\n", true, nil, "takes one value"},
		{"bad bool in env", "", false, map[string]string{"VPCROUTE_HOST_CONFIG": "maybe"}, `host-config "maybe" is invalid`},
		{"mapping", "cluster-cidr: {a: b}\n", true, nil, "got a mapping"},
		{"remove in config", "remove: true\n", true, nil, `key "remove" is refused: --remove changes what a command does, so it is taken from the command line only`},
		{"force in config", "force: false\n", true, nil, `key "force" is refused`},
		{"remove in env", "", false, map[string]string{"VPCROUTE_REMOVE": "true"}, "VPCROUTE_REMOVE is set: --remove changes what a command does"},
		{"force in env", "", false, map[string]string{"VPCROUTE_FORCE": "1"}, "VPCROUTE_FORCE is set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, fs := testFlags()
			fs.Bool("remove", false, "as sync's")
			fs.Bool("force", false, "as allocate's")
			path := filepath.Join(t.TempDir(), "absent.yaml")
			if tt.config != "" {
				path = writeConfig(t, tt.config)
			}
			err := bindSources(fs, flagNames(fs), path, tt.explicit, env(tt.env))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestMissingConfig(t *testing.T) {
	_, fs := testFlags()
	missing := filepath.Join(t.TempDir(), "nope.yaml")
	if err := bindSources(fs, flagNames(fs), missing, false, env(nil)); err != nil {
		t.Errorf("missing default config must be fine: %v", err)
	}
	if err := bindSources(fs, flagNames(fs), missing, true, env(nil)); err == nil {
		t.Error("missing explicit config must fail")
	}
}

func TestValidateOptions(t *testing.T) {
	tests := []struct {
		name string
		edit func(*options)
		want string
	}{
		{"ok", func(o *options) {}, ""},
		{"missing cluster cidr", func(o *options) { o.ClusterCIDR = "" }, "cluster-cidr is required"},
		{"malformed cidr", func(o *options) { o.ClusterCIDR = "10.0.0/8" }, `cluster-cidr "10.0.0/8" is invalid: expected an IPv4 CIDR`},
		{"host bits", func(o *options) { o.Subnets = []string{"10.1.0.1/24"} }, `subnet "10.1.0.1/24" is invalid: host bits are set; expected 10.1.0.0/24`},
		{"ipv6", func(o *options) { o.VPCCIDRs = []string{"fd00::/8"} }, `vpc-cidr "fd00::/8" is invalid`},
		{"cluster name", func(o *options) { o.ClusterName = "Prod_1" }, `cluster-name "Prod_1" is invalid`},
		{"provider", func(o *options) { o.Provider = "gcp" }, `provider "gcp" is invalid: expected aliyun or aws`},
		{"policy", func(o *options) { o.Policy = "all" }, `policy "all" is invalid`},
		{"forward policy", func(o *options) { o.ForwardPolicy = "drop" }, `forward-policy "drop" is invalid`},
		{"timeout", func(o *options) { o.Timeout = 0 }, "timeout 0s is invalid"},
		{"cloud retry timeout", func(o *options) { o.CloudRetryTimeout = 0 }, "cloud-retry-timeout 0s is invalid: expected a positive duration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := validateEdited(tt.edit)
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

// validateEdited validates the defaults with cluster-cidr 10.0.0.0/8,
// changed by edit.
func validateEdited(edit func(*options)) (*options, error) {
	o, fs := testFlags()
	_ = fs.Parse(nil)
	o.ClusterCIDR = "10.0.0.0/8"
	edit(o)
	_, err := o.validate()
	return o, err
}

// flagNames is every flag of fs, as knownFlags returns for a command tree.
func flagNames(fs *pflag.FlagSet) map[string]bool {
	m := map[string]bool{}
	fs.VisitAll(func(f *pflag.Flag) { m[f.Name] = true })
	return m
}
