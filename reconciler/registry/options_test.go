package registry

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func validOptions() Options {
	return Options{Endpoints: []string{"http://127.0.0.1:2379"}, Cluster: "prod"}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Options)
		want string // exact error; "" = valid
	}{
		{"minimal", func(*Options) {}, ""},
		{"https with CA and client pair", func(o *Options) {
			o.Endpoints = []string{"https://10.0.0.1:2379", "https://etcd-2.example:2379/"}
			o.CAFile, o.CertFile, o.KeyFile = "/ca.pem", "/c.pem", "/k.pem"
		}, ""},
		{"https with system roots", func(o *Options) { o.Endpoints = []string{"https://etcd:2379"} }, ""},
		{"ipv6", func(o *Options) { o.Endpoints = []string{"http://[::1]:2379"} }, ""},
		{"auth over https", func(o *Options) {
			o.Endpoints = []string{"https://etcd:2379"}
			o.Username, o.Password = "vpcroute", "pw"
		}, ""},
		{"auth over http, allowed", func(o *Options) {
			o.Username, o.Password, o.AllowInsecureCredentials = "vpcroute", "pw", true
		}, ""},
		{"timeouts", func(o *Options) { o.DialTimeout, o.RequestTimeout = time.Second, time.Second }, ""},

		{"no endpoints", func(o *Options) { o.Endpoints = nil },
			`etcd-endpoints is empty: expected at least one URL such as http://127.0.0.1:2379`},
		{"bare word", func(o *Options) { o.Endpoints = []string{"foo"} },
			`etcd-endpoints "foo" is invalid: expected http(s)://host:port`},
		{"no scheme", func(o *Options) { o.Endpoints = []string{"127.0.0.1:2379"} },
			`etcd-endpoints "127.0.0.1:2379" is invalid: expected http(s)://host:port`},
		{"unix", func(o *Options) { o.Endpoints = []string{"unix:///run/etcd.sock"} },
			`etcd-endpoints "unix:///run/etcd.sock" is invalid: expected http(s)://host:port`},
		{"no port", func(o *Options) { o.Endpoints = []string{"http://etcd"} },
			`etcd-endpoints "http://etcd" is invalid: expected http(s)://host:port`},
		{"port zero", func(o *Options) { o.Endpoints = []string{"http://etcd:0"} },
			`etcd-endpoints "http://etcd:0" is invalid: expected http(s)://host:port`},
		{"port too big", func(o *Options) { o.Endpoints = []string{"http://etcd:65536"} },
			`etcd-endpoints "http://etcd:65536" is invalid: expected http(s)://host:port`},
		{"path", func(o *Options) { o.Endpoints = []string{"http://etcd:2379/v3"} },
			`etcd-endpoints "http://etcd:2379/v3" is invalid: expected http(s)://host:port`},
		{"empty entry", func(o *Options) { o.Endpoints = []string{"http://a:1", ""} },
			`etcd-endpoints "" is invalid: expected http(s)://host:port`},
		{"user in URL", func(o *Options) { o.Endpoints = []string{"http://u@etcd:2379"} },
			`etcd-endpoints "http://u@etcd:2379" is invalid: credentials in the URL are not allowed (use etcd-username and etcd-password-file or VPCROUTE_ETCD_PASSWORD); expected http(s)://host:port`},
		{"password in URL", func(o *Options) { o.Endpoints = []string{"http://u:hunter2@etcd:2379"} },
			`etcd-endpoints "http://u:***@etcd:2379" is invalid: credentials in the URL are not allowed (use etcd-username and etcd-password-file or VPCROUTE_ETCD_PASSWORD); expected http(s)://host:port`},
		{"password in an unparsable URL", func(o *Options) { o.Endpoints = []string{"https://u:hunter2@etcd:port"} },
			`etcd-endpoints "https://u:***@etcd:port" is invalid: expected http(s)://host:port`},
		{"password in a URL without scheme", func(o *Options) { o.Endpoints = []string{"u:hunter2@etcd:2379"} },
			`etcd-endpoints "u:***@etcd:2379" is invalid: expected http(s)://host:port`},
		{"password in the second URL", func(o *Options) { o.Endpoints = []string{"http://a:1", "http://u:hun/ter2@b:2"} },
			`etcd-endpoints "http://u:***@b:2" is invalid: expected http(s)://host:port`},
		{"auth over http", func(o *Options) { o.Username, o.Password = "vpcroute", "hunter2" },
			`etcd-endpoints "http://127.0.0.1:2379" use http:// but etcd-username "vpcroute" and its password are set: they would cross the network in clear text; expected https:// endpoints (or etcd-allow-insecure-credentials on a trusted network)`},
		{"mixed schemes", func(o *Options) { o.Endpoints = []string{"http://a:1", "https://b:2"} },
			`etcd-endpoints "http://a:1,https://b:2" mixes http and https: expected one scheme for all endpoints`},
		{"TLS files with http", func(o *Options) { o.CAFile = "/ca.pem" },
			`etcd-endpoints "http://127.0.0.1:2379" use http:// but TLS files are set: expected https:// endpoints`},
		{"cert without key", func(o *Options) { o.Endpoints = []string{"https://a:1"}; o.CertFile = "/c.pem" },
			`etcd-cert-file "/c.pem" and etcd-key-file "" must be given together: expected both or neither`},
		{"key without cert", func(o *Options) { o.Endpoints = []string{"https://a:1"}; o.KeyFile = "/k.pem" },
			`etcd-cert-file "" and etcd-key-file "/k.pem" must be given together: expected both or neither`},
		{"password without user", func(o *Options) { o.Password = "hunter2" },
			`etcd-username is empty but etcd-password is set: expected both or neither`},
		{"user without password", func(o *Options) { o.Username = "vpcroute" },
			`etcd-password is empty but etcd-username "vpcroute" is set: expected both or neither`},
		{"negative dial timeout", func(o *Options) { o.DialTimeout = -time.Second },
			`etcd-dial-timeout -1s is invalid: expected a positive duration such as 5s`},
		{"negative request timeout", func(o *Options) { o.RequestTimeout = -time.Second },
			`etcd-request-timeout -1s is invalid: expected a positive duration such as 5s`},
		{"cluster", func(o *Options) { o.Cluster = "Prod" },
			`cluster-name "Prod" is invalid: expected 1-40 lowercase letters, digits or '-', starting and ending with a letter or digit`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := validOptions()
			tt.mod(&o)
			err := o.Validate()
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Fatalf("Validate() = %q\nwant          %q", got, tt.want)
			}
			if strings.Contains(got, "\n") {
				t.Fatalf("error has several lines: %q", got)
			}
			// Every password above ends in "ter2", even the ones in URLs.
			if o.Password != "" && strings.Contains(got, o.Password) || strings.Contains(got, "ter2") {
				t.Fatalf("error reveals the password: %q", got)
			}
		})
	}
}

func TestOptionsPrintMasksPassword(t *testing.T) {
	o := validOptions()
	o.Username, o.Password = "vpcroute", "s3cret-Pa55"
	for _, format := range []string{"%v", "%+v", "%s", "%#v"} {
		out := fmt.Sprintf(format, o)
		if strings.Contains(out, o.Password) {
			t.Errorf("%s prints the password: %s", format, out)
		}
		if !strings.Contains(out, `Password:"***"`) || !strings.Contains(out, "vpcroute") {
			t.Errorf("%s = %s, want the username and a masked password", format, out)
		}
	}
}

func TestSafetyMargin(t *testing.T) {
	for _, tt := range []struct{ ttl, want time.Duration }{
		{time.Second, 200 * time.Millisecond},
		{2 * time.Second, 400 * time.Millisecond},
		{10 * time.Second, 2 * time.Second},
		{60 * time.Second, 2 * time.Second},
	} {
		if got := safetyMargin(tt.ttl); got != tt.want {
			t.Errorf("safetyMargin(%s) = %s, want %s", tt.ttl, got, tt.want)
		}
	}
}

func TestMaskEndpoint(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"http://127.0.0.1:2379", "http://127.0.0.1:2379"},
		{"https://[::1]:2379/", "https://[::1]:2379/"},
		{"http://u@h:2379", "http://u@h:2379"},
		{"http://u:p@h:2379", "http://u:***@h:2379"},
		{"http://u:p@ss@h:2379", "http://u:***@h:2379"},
		{"http://u:p/a:ss@h:2379/x", "http://u:***@h:2379/x"},
		{"http://:p@h:2379", "http://:***@h:2379"},
		{"u:p@h:2379", "u:***@h:2379"},
		{"", ""},
	} {
		if got := MaskEndpoint(tt.in); got != tt.want {
			t.Errorf("MaskEndpoint(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
