package aliyun

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/vpcroute/vpcroute/cloud"
)

// TestIdentityErrorsNameTheFlag: when metadata cannot give a field, the
// error names the flag that does (--region, not the metadata path
// region-id; --private-ip, which exists).
func TestIdentityErrorsNameTheFlag(t *testing.T) {
	md := newMetadataClient("http://127.0.0.1:1") // closed
	tests := []struct {
		opts Options
		want string
	}{
		{Options{}, "(or give --instance-id)"},
		{Options{Settings: cloud.Settings{InstanceID: "i-aaa"}}, "(or give --region)"},
		{Options{Settings: cloud.Settings{InstanceID: "i-aaa", Region: "cn-zhangjiakou"}}, "(or give --vpc-id)"},
		{Options{Settings: cloud.Settings{InstanceID: "i-aaa", Region: "cn-zhangjiakou", VPCID: "vpc-lab"}}, "(or give --private-ip)"},
	}
	for _, tt := range tests {
		_, err := resolveIdentity(context.Background(), md, tt.opts)
		if err == nil || !strings.HasSuffix(err.Error(), tt.want) {
			t.Errorf("%+v: err = %v, want it to end in %q", tt.opts, err, tt.want)
		}
	}
	all := Options{Settings: cloud.Settings{InstanceID: "i-aaa", Region: "cn-zhangjiakou", VPCID: "vpc-lab", PrivateIP: netip.MustParseAddr("192.168.1.196")}}
	if self, err := resolveIdentity(context.Background(), md, all); err != nil || self.PrivateIP != all.PrivateIP {
		t.Errorf("every field given: %+v, %v", self, err)
	}
}
