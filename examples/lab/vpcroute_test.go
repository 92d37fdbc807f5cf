package lab

import (
	"slices"
	"testing"
)

// TestCommandFlags: status, cleanup and allocate get only the lab flags they take;
// the others get every one, booleans included.
func TestCommandFlags(t *testing.T) {
	flags := []string{"--provider", "aws", "--endpoint", "http://127.0.0.1:1", "--cluster-name", "lab",
		"--config", "/lab/vpcroute.yaml", "--state-dir", "/lab/h1/state", "--route-table-tag"}
	tests := map[string][]string{
		"status":  {"--config", "/lab/vpcroute.yaml"},
		"cleanup": {"--cluster-name", "lab", "--config", "/lab/vpcroute.yaml", "--state-dir", "/lab/h1/state"},
		"allocate": {"--provider", "aws", "--endpoint", "http://127.0.0.1:1", "--cluster-name", "lab",
			"--config", "/lab/vpcroute.yaml", "--route-table-tag"},
		"sync":   flags,
		"doctor": flags,
	}
	for cmd, want := range tests {
		if got := commandFlags(cmd, flags); !slices.Equal(got, want) {
			t.Errorf("%s: %q\nwant %q", cmd, got, want)
		}
	}
}
