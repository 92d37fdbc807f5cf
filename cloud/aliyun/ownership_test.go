package aliyun

import "testing"

func TestOwnerOf(t *testing.T) {
	tests := []struct {
		name, entryName, description, want string
	}{
		{"ours", entryName("prod"), entryDescription("prod", "i-aaa"), "prod"},
		{"round trip default", entryName("default"), entryDescription("default", "i-b"), "default"},
		{"other cluster in description", entryName("prod"), entryDescription("dev", "i-aaa"), ""},
		{"renamed by operator", "my-route", entryDescription("prod", "i-aaa"), ""},
		{"description rewritten", entryName("prod"), "vpn to office", ""},
		{"empty", "", "", ""},
		{"prefix only", "vpcroute-", descriptionPrefix + "cluster=", ""},
		{"hyphenated cluster", entryName("eu-west-1"), entryDescription("eu-west-1", "i-x"), "eu-west-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ownerOf(tt.entryName, tt.description); got != tt.want {
				t.Errorf("ownerOf(%q, %q) = %q, want %q", tt.entryName, tt.description, got, tt.want)
			}
		})
	}
}
