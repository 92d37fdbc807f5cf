package doctor

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

func sampleReport() Report {
	return NewReport("lab", HostInfo{Instance: "i-ccc", PrivateIP: "192.168.1.198", Provider: "aliyun"}, []Check{
		defIPForward.fail("net.ipv4.ip_forward = 0: the kernel forwards nothing", "sysctl -w net.ipv4.ip_forward=1"),
		defIfForwarding.skip("net.ipv4.ip_forward is not on"),
		defRoutesQuota.warn("vtb-lab holds 190 of 200", "raise it"),
		defCloud.pass("instance i-ccc"),
	})
}

func TestRenderText(t *testing.T) {
	var b bytes.Buffer
	if err := RenderText(&b, sampleReport()); err != nil {
		t.Fatal(err)
	}
	want := `vpcroute doctor: i-ccc (192.168.1.198), cluster lab, provider aliyun

FAIL  sysctl.ip-forward  IPv4 forwarding on (net.ipv4.ip_forward)
      cause: net.ipv4.ip_forward = 0: the kernel forwards nothing
      fix:   sysctl -w net.ipv4.ip_forward=1
SKIP  sysctl.forwarding  forwarding on the uplink and the bridges
      net.ipv4.ip_forward is not on
WARN  routes.quota       route table entries within the quota
      cause: vtb-lab holds 190 of 200
      fix:   raise it
PASS  cloud.api          cloud API answers
      instance i-ccc

FAIL: 4 checks, 1 passed, 1 warned, 1 failed, 1 skipped
`
	if b.String() != want {
		t.Errorf("text:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestReportJSON(t *testing.T) {
	raw, err := sampleReport().MarshalIndent()
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		SchemaVersion string              `json:"schemaVersion"`
		Checks        []map[string]string `json:"checks"`
		Summary       map[string]any      `json:"summary"`
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if got.SchemaVersion != "vpcroute.doctor/v1" || len(got.Checks) != 4 {
		t.Fatalf("json: %s", raw)
	}
	wantKeys := []string{"cause", "fix", "id", "result", "title"}
	for _, c := range got.Checks {
		var keys []string
		for k := range c {
			keys = append(keys, k)
		}
		sortStrings(keys)
		if !reflect.DeepEqual(keys, wantKeys) {
			t.Errorf("check keys %v, want %v", keys, wantKeys)
		}
	}
	want := map[string]any{"pass": 1.0, "warn": 1.0, "fail": 1.0, "skip": 1.0, "result": "FAIL"}
	if !reflect.DeepEqual(got.Summary, want) {
		t.Errorf("summary %v, want %v", got.Summary, want)
	}
	if f := sampleReport().Failed(); !reflect.DeepEqual(f, []string{"sysctl.ip-forward"}) {
		t.Errorf("Failed() = %v", f)
	}
	empty, _ := NewReport("lab", HostInfo{}, nil).MarshalIndent()
	if !bytes.Contains(empty, []byte(`"checks": []`)) || !bytes.Contains(empty, []byte(`"result": "PASS"`)) {
		t.Errorf("empty report: %s", empty)
	}
}

func sortStrings(s []string) {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
}
