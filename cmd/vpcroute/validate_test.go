package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestValidateRefusesUnsafeInput asserts the exact one-line error of every
// unsafe setting refused before anything is read from the cloud.
func TestValidateRefusesUnsafeInput(t *testing.T) {
	dir := t.TempDir()
	file := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pwFile := file("pw", "hunter2\n")
	emptyFile := file("empty", "\n")
	twoLines := file("two", "hunter2\nhunter3\n")
	bigFile := file("big", strings.Repeat("x", maxPasswordFile+1))
	https := func(o *options) {
		o.EtcdEndpoints = []string{"https://10.0.0.5:2379"}
		o.EtcdUsername = "vpcroute"
	}
	tests := []struct {
		name string
		edit func(*options)
		want string // exact error; "" = valid
	}{
		{"safe", func(*options) {}, ""},
		{"cluster around the VPC", func(o *options) { o.ClusterCIDR, o.VPCCIDRs = "192.0.0.0/8", []string{"192.168.0.0/16"} }, ""},
		{"every address", func(o *options) { o.ClusterCIDR = "0.0.0.0/0" },
			`cluster-cidr "0.0.0.0/0" is too broad: expected /8 or longer, e.g. 10.0.0.0/8, 172.16.0.0/12`},
		{"half the Internet", func(o *options) { o.ClusterCIDR, o.Subnets = "0.0.0.0/1", []string{"0.0.0.0/1"} },
			`cluster-cidr "0.0.0.0/1" is too broad: expected /8 or longer, e.g. 10.0.0.0/8, 172.16.0.0/12`},
		{"/7", func(o *options) { o.ClusterCIDR = "10.0.0.0/7" },
			`cluster-cidr "10.0.0.0/7" is too broad: expected /8 or longer, e.g. 10.0.0.0/8, 172.16.0.0/12`},
		{"/6", func(o *options) { o.ClusterCIDR = "8.0.0.0/6" },
			`cluster-cidr "8.0.0.0/6" is too broad: expected /8 or longer, e.g. 10.0.0.0/8, 172.16.0.0/12`},
		{"inside --vpc-cidr", func(o *options) { o.VPCCIDRs = []string{"10.0.0.0/8"} },
			`cluster-cidr "10.0.0.0/8" lies inside the VPC CIDR 10.0.0.0/8: expected a range outside the VPC, e.g. 172.16.0.0/12`},

		{"credentials over https", func(o *options) { https(o); o.EtcdPassword = "hunter2" }, ""},
		{"credentials over http", func(o *options) {
			o.EtcdEndpoints, o.EtcdUsername, o.EtcdPassword = []string{"http://10.0.0.5:2379"}, "vpcroute", "hunter2"
		}, `etcd-endpoints "http://10.0.0.5:2379" use http:// but etcd-username "vpcroute" and its password are set: they would cross the network in clear text; expected https:// endpoints (or etcd-allow-insecure-credentials on a trusted network)`},
		{"credentials over http, allowed", func(o *options) {
			o.EtcdEndpoints, o.EtcdUsername, o.EtcdPassword = []string{"http://10.0.0.5:2379"}, "vpcroute", "hunter2"
			o.EtcdAllowInsecure = true
		}, ""},
		{"password in the endpoint", func(o *options) { o.EtcdEndpoints = []string{"http://u:hunter2@10.0.0.5:2379"} },
			`etcd-endpoints "http://u:***@10.0.0.5:2379" is invalid: credentials in the URL are not allowed (use etcd-username and etcd-password-file or VPCROUTE_ETCD_PASSWORD); expected http(s)://host:port`},
		{"password file", func(o *options) { https(o); o.EtcdPasswordFile = pwFile }, ""},
		{"password file and password", func(o *options) { https(o); o.EtcdPasswordFile, o.EtcdPassword = pwFile, "hunter2" },
			`etcd-password-file "` + pwFile + `" and etcd-password are both set: expected one of them`},
		{"password file missing", func(o *options) { https(o); o.EtcdPasswordFile = filepath.Join(dir, "absent") },
			`etcd-password-file "` + filepath.Join(dir, "absent") + `" cannot be read: no such file or directory`},
		{"password file is a directory", func(o *options) { https(o); o.EtcdPasswordFile = dir },
			`etcd-password-file "` + dir + `" cannot be read: is a directory`},
		{"password file empty", func(o *options) { https(o); o.EtcdPasswordFile = emptyFile },
			`etcd-password-file "` + emptyFile + `" is empty: expected the etcd password on one line`},
		{"password file of two lines", func(o *options) { https(o); o.EtcdPasswordFile = twoLines },
			`etcd-password-file "` + twoLines + `" holds several lines: expected the etcd password on one line`},
		{"password file too large", func(o *options) { https(o); o.EtcdPasswordFile = bigFile },
			`etcd-password-file "` + bigFile + `" is larger than 4096 bytes: expected a file holding only the etcd password`},
		{"password file without user", func(o *options) {
			o.EtcdEndpoints, o.EtcdPasswordFile = []string{"https://10.0.0.5:2379"}, pwFile
		}, `etcd-username is empty but etcd-password is set: expected both or neither`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := validateEdited(tt.edit)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Fatalf("validate() = %q\nwant         %q", got, tt.want)
			}
			if strings.Contains(got, "\n") || strings.Contains(got, "hunter") {
				t.Fatalf("error is not one line, or shows a password: %q", got)
			}
		})
	}
}

func TestPasswordFileReachesTheRegistry(t *testing.T) {
	p := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(p, []byte("s3cret pass\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	o, err := validateEdited(func(o *options) {
		o.EtcdEndpoints, o.EtcdUsername, o.EtcdPasswordFile = []string{"https://etcd:2379"}, "vpcroute", p
	})
	if err != nil {
		t.Fatal(err)
	}
	// validate may run again; the file stays the one source.
	if _, err := o.validate(); err != nil {
		t.Fatal(err)
	}
	if got := o.registryOptions().Password; got != "s3cret pass" {
		t.Errorf("registry password = %q, want the file's line", got)
	}
}

// TestDeprecatedPasswordFlagWarnsOnStderr: --etcd-password still works, and
// says once, on stderr and without the value, where the password goes now.
func TestDeprecatedPasswordFlagWarnsOnStderr(t *testing.T) {
	var stdout, stderr bytes.Buffer
	root := newRootCommand(&stdout, &stderr, env(nil))
	root.SetArgs([]string{"sync", "--etcd-password", "hunter2", "--help"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	want := "Flag --etcd-password has been deprecated, it shows the password to every user in ps; use VPCROUTE_ETCD_PASSWORD, the config file or --etcd-password-file\n"
	if stderr.String() != want {
		t.Errorf("stderr = %q\nwant     %q", stderr.String(), want)
	}
	if !strings.HasPrefix(stdout.String(), "sync discovers") || strings.Contains(stdout.String(), "hunter2") {
		t.Errorf("stdout = %q, want only sync's help", stdout.String())
	}
	// The environment and the config file are the ways in: no warning.
	stdout.Reset()
	stderr.Reset()
	root = newRootCommand(&stdout, &stderr, env(map[string]string{"VPCROUTE_ETCD_PASSWORD": "hunter2"}))
	root.SetArgs([]string{"doctor", "-o", "yaml", "--config", filepath.Join(t.TempDir(), "none.yaml")})
	err := root.Execute()
	if err == nil || stderr.Len() != 0 {
		t.Errorf("doctor with the password in the environment: err %v, stderr %q", err, stderr.String())
	}
	// The flag is hidden from the list of sync's flags.
	stdout.Reset()
	root = newRootCommand(&stdout, &stderr, env(nil))
	root.SetArgs([]string{"options", "sync"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if h := stdout.String(); strings.Contains(h, "--etcd-password ") || !strings.Contains(h, "--etcd-password-file") {
		t.Errorf("options sync lists the deprecated flag, or not its replacement:\n%s", h)
	}
}

// TestEndpointPasswordNeverEchoed: a bad etcd-endpoints value from the
// command line or the environment is refused without its password.
func TestEndpointPasswordNeverEchoed(t *testing.T) {
	bad := `http://u:hun"ter2@10.0.0.5:2379` // a quote breaks the comma-list parser
	var stdout, stderr bytes.Buffer
	root := newRootCommand(&stdout, &stderr, env(nil))
	root.SetArgs([]string{"sync", "--etcd-endpoints", bad})
	err := root.Execute()
	want := "etcd-endpoints is invalid: expected comma-separated http(s)://host:port URLs"
	if err == nil || err.Error() != want {
		t.Errorf("command line: %v, want %q", err, want)
	}

	_, fs := testFlags()
	err = bindSources(fs, flagNames(fs), filepath.Join(t.TempDir(), "none.yaml"), false,
		env(map[string]string{"VPCROUTE_ETCD_ENDPOINTS": bad}))
	want = `VPCROUTE_ETCD_ENDPOINTS: etcd-endpoints "http://u:***@10.0.0.5:2379" is invalid: parse error on line 1, column 13: bare " in non-quoted-field`
	if err == nil || err.Error() != want {
		t.Errorf("environment: %v\nwant %q", err, want)
	}
	for _, s := range []string{stdout.String(), stderr.String()} {
		if strings.Contains(s, "ter2") {
			t.Errorf("output shows the password: %q", s)
		}
	}
}

func TestConfigFileSizeLimit(t *testing.T) {
	big := writeConfig(t, "cluster-cidr: 10.0.0.0/8\n#"+strings.Repeat("x", maxConfigSize)+"\n")
	_, fs := testFlags()
	err := bindSources(fs, flagNames(fs), big, true, env(nil))
	want := "config " + big + " is larger than 1 MiB (1048576 bytes): expected a small YAML file whose keys are flag names"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant  %q", err, want)
	}
	// Exactly at the limit is fine.
	fits := writeConfig(t, "cluster-cidr: 10.0.0.0/8\n#"+strings.Repeat("x", maxConfigSize-len("cluster-cidr: 10.0.0.0/8\n#\n"))+"\n")
	o, fs := testFlags()
	if err := bindSources(fs, flagNames(fs), fits, true, env(nil)); err != nil || o.ClusterCIDR != "10.0.0.0/8" {
		t.Errorf("a config of exactly 1 MiB: %v, cluster-cidr %q", err, o.ClusterCIDR)
	}
}
