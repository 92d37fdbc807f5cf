package registry

import (
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/vpcroute/vpcroute/reconciler"
	"github.com/vpcroute/vpcroute/reconciler/registry/etcdtest"
)

// TestPutReportStoresNoCredentials: whatever error text the leader hands
// in, the report stored in etcd (read by every host) holds no credential.
func TestPutReportStoresNoCredentials(t *testing.T) {
	const token = "CAISleakedSecurityToken0123456789abcdef"
	srv := etcdtest.Start(t)
	r, _ := openOn(t, srv, nil)
	ctx := testCtx(t)
	rep := reconciler.Report{Leader: "i-aaa", Trigger: "resync", Started: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		Result: reconciler.ResultError,
		Error:  `DescribeVpcs: Post "http://127.0.0.1:1/?AccessKeyId=STS.leak&SecurityToken=` + token + `": EOF`}
	if err := r.PutReport(ctx, rep); err != nil {
		t.Fatalf("PutReport: %v", err)
	}
	resp, err := rawClient(t, srv).Get(ctx, "/", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, kv := range resp.Kvs {
		if strings.Contains(string(kv.Value), token) || strings.Contains(string(kv.Value), "STS.leak") {
			t.Errorf("%s leaks a credential: %s", kv.Key, kv.Value)
		}
		found = found || strings.Contains(string(kv.Value), `Post \"http://127.0.0.1:1/?[redacted]\": EOF`)
	}
	if !found {
		t.Errorf("no stored report holds the scrubbed error: %v", resp.Kvs)
	}
	if !strings.Contains(rep.Error, token) {
		t.Error("PutReport modified the caller's report")
	}
}
