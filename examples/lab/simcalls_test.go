package lab

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseSimCalls(t *testing.T) {
	log := strings.Join([]string{
		"2026-12-07T10:00:00.000Z\tINFO\tsimulator up",
		`2026-12-07T10:00:00.100Z	DEBUG	rpc call	{"action": "DescribeRouteEntryList", "outcome": "ok", "accessKeyId": "LTAI-lab", "remote": "192.168.1.10:40000"}`,
		`2026-12-07T10:00:00.200Z	DEBUG	rpc call	{"action": "CreateRouteEntries", "outcome": "ServiceUnavailable", "accessKeyId": "LTAI-lab", "remote": "192.168.1.11:40001"}`,
		"",
	}, "\n")
	got, err := ParseSimCalls(log)
	if err != nil {
		t.Fatal(err)
	}
	want := []SimCall{
		{At: time.Date(2026, 12, 7, 10, 0, 0, 100e6, time.UTC), Action: "DescribeRouteEntryList", Outcome: "ok", From: netip.MustParseAddr("192.168.1.10")},
		{At: time.Date(2026, 12, 7, 10, 0, 0, 200e6, time.UTC), Action: "CreateRouteEntries", Outcome: "ServiceUnavailable", From: netip.MustParseAddr("192.168.1.11")},
	}
	for i := range got {
		if !got[i].At.Equal(want[i].At) {
			t.Errorf("call %d at %s, want %s", i, got[i].At, want[i].At)
		}
		got[i].At = want[i].At
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ParseSimCalls = %+v, want %+v", got, want)
	}
	if got[0].Write() || !got[1].Write() {
		t.Errorf("Write: %s %v, %s %v; want false, true", got[0].Action, got[0].Write(), got[1].Action, got[1].Write())
	}
	for _, bad := range []string{
		"2026-12-07T10:00:00.000Z\tDEBUG\trpc call\t{not json",
		`2026-12-07T10:00:00.000Z	DEBUG	rpc call	{"action": "CreateRouteEntry", "remote": "nowhere"}`,
		`yesterday	DEBUG	rpc call	{"action": "CreateRouteEntry", "remote": "192.168.1.10:1"}`,
	} {
		if _, err := ParseSimCalls(bad); err == nil {
			t.Errorf("ParseSimCalls(%q): no error", bad)
		}
	}
	for _, w := range []string{"DeleteRouteEntries", "ModifyRouteEntry", "ReplaceRoute", "CreateRoute"} {
		if !(SimCall{Action: w}).Write() {
			t.Errorf("%s is not a write", w)
		}
	}
}
