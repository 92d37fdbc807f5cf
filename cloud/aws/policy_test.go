package aws

import (
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// iamStatement is one statement of an IAM policy; Resource is a string or
// a list.
type iamStatement struct {
	Sid       string
	Effect    string
	Action    []string
	Resource  any
	Condition map[string]map[string]any
}

func readPolicy(t *testing.T) []iamStatement {
	t.Helper()
	data, err := os.ReadFile("../../deploy/aws-iam-policy.json")
	if err != nil {
		t.Fatal(err)
	}
	var policy struct {
		Version   string
		Statement []iamStatement
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&policy); err != nil {
		t.Fatalf("policy is not an IAM policy document: %v", err)
	}
	if policy.Version != "2012-10-17" {
		t.Errorf("Version = %q, want 2012-10-17 (the only one with policy variables and conditions as used)", policy.Version)
	}
	return policy.Statement
}

func resources(st iamStatement) []string {
	switch r := st.Resource.(type) {
	case string:
		return []string{r}
	case []any:
		var out []string
		for _, v := range r {
			s, _ := v.(string)
			out = append(out, s)
		}
		return out
	}
	return nil
}

// apiActions are the EC2 actions the provider can call: the methods of
// ec2API.
func apiActions() []string {
	t := reflect.TypeFor[ec2API]()
	var out []string
	for i := range t.NumMethod() {
		out = append(out, t.Method(i).Name)
	}
	return out
}

// TestIAMPolicyIsLeastPrivilege holds deploy/aws-iam-policy.json to the SDK
// calls the provider can make: every action of ec2API is granted and no
// other; reads (which take no resource-level permissions) are the only
// ones on "*"; writes are scoped to route tables and network interfaces,
// and interface writes to vpcroute's tag.
func TestIAMPolicyIsLeastPrivilege(t *testing.T) {
	statements := readPolicy(t)
	granted := map[string]bool{}
	for _, st := range statements {
		if st.Effect != "Allow" {
			t.Errorf("%s: Effect = %q, want Allow", st.Sid, st.Effect)
		}
		for _, a := range st.Action {
			name, ok := strings.CutPrefix(a, "ec2:")
			if !ok || strings.Contains(name, "*") {
				t.Errorf("%s: action %q is not one named EC2 action", st.Sid, a)
			}
			granted[name] = true
			res := resources(st)
			if strings.HasPrefix(name, "Describe") {
				if !slices.Equal(res, []string{"*"}) {
					t.Errorf("%s: %s on %v: Describe actions take no resource-level permissions, want \"*\"", st.Sid, a, res)
				}
				continue
			}
			if !mutating[name] {
				t.Errorf("%s: %s is neither a Describe nor a known mutating action", st.Sid, a)
			}
			for _, r := range res {
				if r != "arn:aws:ec2:*:*:route-table/*" && r != "arn:aws:ec2:*:*:network-interface/*" {
					t.Errorf("%s: %s on %q: writes must be scoped to route tables or network interfaces", st.Sid, a, r)
				}
				if r == "arn:aws:ec2:*:*:network-interface/*" && st.Condition["Null"]["aws:ResourceTag/"+TagKey] == nil {
					t.Errorf("%s: %s on network interfaces without a condition on the %s tag", st.Sid, a, TagKey)
				}
			}
		}
	}
	var got []string
	for a := range granted {
		got = append(got, a)
	}
	want := apiActions()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("policy grants %v\nthe provider calls %v", got, want)
	}
	for _, st := range statements {
		if !slices.Contains(st.Action, "ec2:CreateTags") {
			continue
		}
		keys, _ := st.Condition["ForAllValues:StringEquals"]["aws:TagKeys"].([]any)
		if len(keys) != 1 || keys[0] != TagKey || st.Condition["Null"]["aws:RequestTag/"+TagKey] != "false" ||
			st.Condition["Null"]["aws:ResourceTag/"+TagKey] != "true" {
			t.Errorf("%s: CreateTags must allow only adding %s to an interface without it; conditions %v", st.Sid, TagKey, st.Condition)
		}
	}
}
