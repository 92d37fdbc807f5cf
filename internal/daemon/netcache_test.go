package daemon

import (
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestSavedNetworkRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	if _, ok, err := loadNetwork(dir); ok || err != nil {
		t.Fatalf("nothing saved: ok %v, err %v", ok, err)
	}
	want := SavedNetwork{VPCID: "vpc-1", CIDRs: []netip.Prefix{netip.MustParsePrefix("192.168.0.0/16"), netip.MustParsePrefix("172.20.0.0/16")},
		SavedAt: time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)}
	if err := SaveNetwork(dir, want); err != nil {
		t.Fatal(err)
	}
	got, ok, err := loadNetwork(dir)
	if err != nil || !ok || !reflect.DeepEqual(got, want) {
		t.Fatalf("load = %+v, %v, %v; want %+v", got, ok, err, want)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("cache dir holds %d files, want only %s (no temporary file left)", len(entries), networkCacheFile)
	}
}

func TestSavedNetworkRefusesWhatItCannotUse(t *testing.T) {
	for name, content := range map[string]string{
		"torn":     `{"vpcId":"vpc-1","cidrs":["192.168`,
		"no CIDRs": `{"vpcId":"vpc-1","cidrs":[]}`,
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, networkCacheFile), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		_, ok, err := loadNetwork(dir)
		if ok || err == nil || !strings.Contains(err.Error(), networkCacheFile) {
			t.Errorf("%s: ok %v, err %v; want an error naming the file", name, ok, err)
		}
	}
}
