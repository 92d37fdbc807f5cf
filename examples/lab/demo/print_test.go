package main

import "testing"

// TestCloudChoices: --provider's help lists every lab cloud as it read
// when the demo named them itself.
func TestCloudChoices(t *testing.T) {
	want := "aliyun (VPC route entries to ECS instances) or aws (EC2 routes to each instance's ENI)"
	if got := cloudChoices(); got != want {
		t.Errorf("cloudChoices() = %q, want %q", got, want)
	}
}
