package sim

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"testing"
)

func TestMetadataByPrefix(t *testing.T) {
	ts := start(t)
	want := map[string]string{
		"instance-id":        "i-aaa",
		"region-id":          testRegion,
		"zone-id":            "cn-zhangjiakou-a",
		"vpc-id":             testVPC,
		"vswitch-id":         "vsw-lab",
		"private-ipv4":       "192.168.1.196",
		"mac":                defaultMAC("i-aaa"),
		"vpc-cidr-block":     "192.168.0.0/16",
		"vswitch-cidr-block": "192.168.1.0/24",
	}
	for key, value := range want {
		status, body := httpGet(t, ts.HTTP.Client(), ts.MetadataURL("i-aaa")+"/latest/meta-data/"+key)
		if status != 200 || body != value {
			t.Errorf("%s = %d %q, want %q", key, status, body, value)
		}
	}
	status, body := httpGet(t, ts.HTTP.Client(), ts.MetadataURL("i-aaa")+"/latest/meta-data/network/interfaces/macs/"+defaultMAC("i-aaa")+"/vpc-id")
	if status != 200 || body != testVPC {
		t.Errorf("macs/<mac>/vpc-id = %d %q", status, body)
	}
	for _, path := range []string{"/sim/v1/instances/i-zzz/latest/meta-data/instance-id", "/sim/v1/instances/i-aaa/latest/meta-data/nope"} {
		if status, _ := httpGet(t, ts.HTTP.Client(), ts.URL+path); status != 404 {
			t.Errorf("%s: status %d, want 404", path, status)
		}
	}
	if err := ts.RemoveInstance("i-aaa", false); err != nil {
		t.Fatal(err)
	}
	if status, _ := httpGet(t, ts.HTTP.Client(), ts.MetadataURL("i-aaa")+"/latest/meta-data/instance-id"); status != 404 {
		t.Errorf("terminated instance: status %d, want 404", status)
	}
}

// clientFrom dials the simulator from a given loopback source address, the
// way a host namespace reaches it on a routed address in the lab.
func clientFrom(src string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
}

func TestMetadataByCaller(t *testing.T) {
	// Loopback is a /8 on Linux: every 127.x address is a valid source, so
	// instances on 127.0.0.0/24 can call from their own address.
	topo := Topology{
		Region:      testRegion,
		VPC:         &VPCSpec{ID: "vpc-lo", CIDR: "127.0.0.0/8"},
		VSwitches:   []VSwitchSpec{{ID: "vsw-lo", CIDR: "127.0.0.0/24"}},
		Instances:   []InstanceSpec{{ID: "i-five", PrivateIP: "127.0.0.5"}, {ID: "i-six", PrivateIP: "127.0.0.6", RAMRole: "node"}},
		Credentials: []CredentialSpec{{AccessKeyID: testKey, AccessKeySecret: testSecret}},
	}
	ts := NewTestServer(t, topo)
	for src, want := range map[string]string{"127.0.0.5": "i-five", "127.0.0.6": "i-six"} {
		status, body := httpGet(t, clientFrom(src), ts.URL+"/latest/meta-data/instance-id")
		if status != 200 || body != want {
			t.Errorf("from %s: %d %q, want %s", src, status, body, want)
		}
	}
	if status, body := httpGet(t, clientFrom("127.0.0.6"), ts.URL+"/latest/meta-data/ram/security-credentials/"); status != 200 || body != "node" {
		t.Errorf("role from 127.0.0.6: %d %q", status, body)
	}
	if status, _ := httpGet(t, clientFrom("127.0.0.5"), ts.URL+"/latest/meta-data/ram/security-credentials/"); status != 404 {
		t.Errorf("role of an instance without one: %d, want 404", status)
	}
	if status, _ := httpGet(t, clientFrom("127.0.0.9"), ts.URL+"/latest/meta-data/instance-id"); status != 404 {
		t.Errorf("unknown caller: %d, want 404", status)
	}
}

func TestMetadataOverUnixSocketNeedsPrefix(t *testing.T) {
	s, err := New(DefaultTopology())
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "sim.sock")
	l, err := Listen("unix:" + sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	if status, _ := httpGet(t, client, "http://sim/latest/meta-data/instance-id"); status != 404 {
		t.Errorf("caller without an IP: %d, want 404", status)
	}
	if status, body := httpGet(t, client, "http://sim/sim/v1/instances/i-bbb/latest/meta-data/private-ipv4"); status != 200 || body != "192.168.1.197" {
		t.Errorf("prefix over unix socket: %d %q", status, body)
	}
}

func TestMetadataToken(t *testing.T) {
	ts := start(t)
	req, err := http.NewRequest(http.MethodPut, ts.MetadataURL("i-aaa")+"/latest/api/token", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-aliyun-ecs-metadata-token-ttl-seconds", "21600")
	resp, err := ts.HTTP.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("token: status %d", resp.StatusCode)
	}
	req.Header.Del("X-aliyun-ecs-metadata-token-ttl-seconds")
	resp, err = ts.HTTP.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("token without TTL header: status %d, want 400", resp.StatusCode)
	}
}
