package aliyun

import (
	"encoding/json"
	"os"
	"slices"
	"testing"
)

// TestRAMPolicyIsLeastPrivilege holds deploy/aliyun-ram-policy.json to the
// SDK calls the provider can make: every action of vpcAPI and ecsAPI is
// granted, and nothing else.
func TestRAMPolicyIsLeastPrivilege(t *testing.T) {
	data, err := os.ReadFile("../../deploy/aliyun-ram-policy.json")
	if err != nil {
		t.Fatal(err)
	}
	var policy struct {
		Version   string
		Statement []struct {
			Effect   string
			Action   []string
			Resource any
		}
	}
	if err := json.Unmarshal(data, &policy); err != nil {
		t.Fatalf("policy is not JSON: %v", err)
	}
	if policy.Version != "1" {
		t.Errorf("Version = %q, want \"1\" (the RAM policy language version)", policy.Version)
	}
	var granted []string
	for i, st := range policy.Statement {
		if st.Effect != "Allow" {
			t.Errorf("statement %d: Effect = %q, want Allow", i, st.Effect)
		}
		granted = append(granted, st.Action...)
	}
	vpcActions, ecsActions := apiActions()
	var want []string
	for _, a := range vpcActions {
		want = append(want, "vpc:"+a)
	}
	for _, a := range ecsActions {
		want = append(want, "ecs:"+a)
	}
	slices.Sort(granted)
	slices.Sort(want)
	if !slices.Equal(granted, want) {
		t.Errorf("policy grants %v\nthe provider calls    %v", granted, want)
	}
}
