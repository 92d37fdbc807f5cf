package reconciler

import (
	"errors"
	"testing"

	"github.com/vpcroute/vpcroute/cloud"
)

// TestPassResult: a failed step is an error (one line, scrubbed: the
// report reaches etcd); anything refused, held or in conflict degrades a
// pass that otherwise completed.
func TestPassResult(t *testing.T) {
	blockingConflict := Conflict{Kind: ConflictOccupied, Holder: cloud.Route{TableID: "vtb-1"}}
	shadowed := Conflict{Kind: ConflictShadowed, Holder: cloud.Route{TableID: "vtb-1"}}
	tests := []struct {
		name    string
		rep     Report
		err     error
		want    string
		wantMsg string
	}{
		{name: "clean", want: ResultOK},
		{name: "failed step", err: errors.New("list routes:\n  throttled"), want: ResultError, wantMsg: "list routes: throttled"},
		{name: "failed step, scrubbed", err: errors.New("GET https://user:pw@vpc.example/?AccessKeySecret=s3cr3t: 403"), want: ResultError,
			wantMsg: "GET https://[redacted]@vpc.example/?[redacted]: 403"},
		{name: "failed step wins over degraded", rep: Report{Held: []Held{{}}}, err: errors.New("x"), want: ResultError, wantMsg: "x"},
		{name: "claim conflict", rep: Report{ClaimConflicts: []ClaimConflict{{}}}, want: ResultDegraded},
		{name: "refused route", rep: Report{Refused: []Refusal{{}}}, want: ResultDegraded},
		{name: "held deletion", rep: Report{Held: []Held{{}}}, want: ResultDegraded},
		{name: "refused host", rep: Report{RefusedHosts: []RefusedHost{{}}}, want: ResultDegraded},
		{name: "blocking conflict", rep: Report{Conflicts: []Conflict{blockingConflict}}, want: ResultDegraded},
		{name: "a shadowed route alone is no conflict that matters", rep: Report{Conflicts: []Conflict{shadowed}}, want: ResultOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, msg := result(tt.rep, tt.err)
			if got != tt.want || msg != tt.wantMsg {
				t.Errorf("result = %q, %q; want %q, %q", got, msg, tt.want, tt.wantMsg)
			}
		})
	}
}
