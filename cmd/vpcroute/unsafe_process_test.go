package main

import (
	"strings"
	"testing"
)

// TestUnsafeInputExitsTwoChangingNothing runs the binary against the
// simulator with every unsafe setting: each run exits 2 with one line on
// stderr, and the simulator sees no write. The VPC (192.168.0.0/16) is
// read from the cloud, not given with --vpc-cidr.
func TestUnsafeInputExitsTwoChangingNothing(t *testing.T) {
	s := startSim(t, "50ms")
	const (
		tooBroad  = `cluster-cidr "0.0.0.0/0" is too broad: expected /8 or longer, e.g. 10.0.0.0/8, 172.16.0.0/12`
		halfBroad = `cluster-cidr "0.0.0.0/1" is too broad: expected /8 or longer, e.g. 10.0.0.0/8, 172.16.0.0/12`
		insideVPC = `cluster-cidr "192.168.128.0/17" lies inside the VPC CIDR 192.168.0.0/16: expected a range outside the VPC, e.g. 10.0.0.0/8`
		httpCreds = `etcd-endpoints "http://127.0.0.1:1" use http:// but etcd-username "vpcroute" and its password are set: they would cross the network in clear text; expected https:// endpoints (or etcd-allow-insecure-credentials on a trusted network)`
		// The CLI's error line is scrubbed as a whole, user name included.
		urlCreds = `etcd-endpoints "http://[redacted]@127.0.0.1:1" is invalid: credentials in the URL are not allowed (use etcd-username and etcd-password-file or VPCROUTE_ETCD_PASSWORD); expected http(s)://host:port`
	)
	password := []string{"VPCROUTE_ETCD_PASSWORD=hunter2"}
	daemon := []string{"daemon", "--host-config=false", "--status-addr", "127.0.0.1:0"}
	tests := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		// The example: half the VPC's egress planned to one host.
		{"sync, every address", nil, []string{"sync", "--host-config=false", "--cluster-cidr", "0.0.0.0/0", "--subnet", "0.0.0.0/1"}, tooBroad},
		{"plan, every address", nil, []string{"plan", "--cluster-cidr", "0.0.0.0/0", "--subnet", "0.0.0.0/1"}, tooBroad},
		{"sync, half the Internet", nil, []string{"sync", "--host-config=false", "--cluster-cidr", "0.0.0.0/1", "--subnet", "10.0.0.0/24"}, halfBroad},
		{"daemon, every address", nil, append(daemon, "--cluster-cidr", "0.0.0.0/0", "--subnet", "10.0.0.0/24"), tooBroad},
		{"sync, inside the VPC", nil, []string{"sync", "--host-config=false", "--cluster-cidr", "192.168.128.0/17", "--subnet", "192.168.200.0/24"}, insideVPC},
		{"plan, inside the VPC", nil, []string{"plan", "-o", "json", "--cluster-cidr", "192.168.128.0/17", "--subnet", "192.168.200.0/24"}, insideVPC},
		{"sync --remove, inside the VPC", nil, []string{"sync", "--remove", "--host-config=false", "--cluster-cidr", "192.168.128.0/17"}, insideVPC},
		{"daemon, inside the VPC", nil, append(daemon, "--cluster-cidr", "192.168.128.0/17", "--subnet", "192.168.200.0/24"), insideVPC},
		{"sync, etcd credentials over http", password, []string{"sync", "--host-config=false", "--cluster-cidr", "10.0.0.0/8",
			"--subnet", "10.0.0.0/24", "--etcd-endpoints", "http://127.0.0.1:1", "--etcd-username", "vpcroute"}, httpCreds},
		{"daemon, etcd credentials over http", password, append(daemon, "--cluster-cidr", "10.0.0.0/8", "--subnet", "10.0.0.0/24",
			"--etcd-endpoints", "http://127.0.0.1:1", "--etcd-username", "vpcroute"), httpCreds},
		{"daemon, password in the etcd endpoint", nil, append(daemon, "--cluster-cidr", "10.0.0.0/8", "--subnet", "10.0.0.0/24",
			"--etcd-endpoints", "http://vpcroute:hunter2@127.0.0.1:1"), urlCreds},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.vpcroute(t, "i-aaa", tt.env, tt.args...)
			// Refused before anything starts: the error is all there is,
			// except a VPC overlap, which a daemon learns from the cloud
			// after its start was logged: then the error is the last line.
			wantAll := !strings.HasPrefix(tt.name, "daemon, inside the VPC")
			if r.code != 2 || lastLine(r.stderr) != "vpcroute: "+tt.want || (wantAll && r.stderr != "vpcroute: "+tt.want+"\n") {
				t.Errorf("exit %d, stderr %q\nwant exit 2 and %q", r.code, r.stderr, "vpcroute: "+tt.want+"\n")
			}
			if r.stdout != "" || strings.Contains(r.stderr, "hunter2") {
				t.Errorf("stdout %q; stderr %q (no output, no password expected)", r.stdout, r.stderr)
			}
		})
	}
	if st := s.stats(t); st.Writes != 0 {
		t.Errorf("unsafe input caused %d write calls: %v", st.Writes, st.Actions)
	}
}
