package main

import (
	"fmt"
	"testing"

	"github.com/vpcroute/vpcroute/reconciler/registry/etcdtest"
)

// networkReads are the calls one read of the VPC (Provider.Network) makes
// on Alibaba Cloud without --vpc-cidr or --route-table.
var networkReads = []string{"DescribeVpcs", "DescribeVSwitches", "DescribeRouteTableList"}

// TestDaemonReadsTheVPCOncePerStart: the VPC read at connect (to validate
// the cluster CIDR and configure the host) is the one the leader's first
// pass plans with; from start to the first report, each call of that read
// is made once, in self mode and in cluster mode.
func TestDaemonReadsTheVPCOncePerStart(t *testing.T) {
	for _, mode := range []string{"self", "cluster"} {
		t.Run(mode, func(t *testing.T) {
			s := startSim(t, "100ms")
			var etcd []string
			if mode == "cluster" {
				etcd = etcdtest.Start(t).Endpoints()
			}
			d := s.startDaemon(t, "i-aaa", "10.0.0.0/24", etcd)
			eventually(t, liveness, "a first reconcile report", func() error {
				doc, err := d.status()
				if err != nil {
					return err
				}
				if doc.Reconcile == nil || !doc.Leader.IsSelf {
					return fmt.Errorf("leader %+v, reconcile %+v", doc.Leader, doc.Reconcile)
				}
				return nil
			})
			s.wantOwned(t, liveness, "10.0.0.0/24>i-aaa:Available")
			st := s.stats(t)
			for _, action := range networkReads {
				if n := st.Calls(action); n != 1 {
					t.Errorf("%s called %d times from start to the first report, want 1", action, n)
				}
			}
			t.Logf("per start: %s %d, %s %d, %s %d; reads %d in all", networkReads[0], st.Calls(networkReads[0]),
				networkReads[1], st.Calls(networkReads[1]), networkReads[2], st.Calls(networkReads[2]), st.Reads)
		})
	}
}
