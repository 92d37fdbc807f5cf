package hostcfg

import (
	"fmt"
	"strings"
)

// Op is the kind of one host change.
type Op string

// The changes hostcfg makes. Rule deletions name the rule, tag included, not
// its position, so a concurrent edit can never make vpcroute delete a rule
// it does not own; Pos is where the plan expects the rule to be.
const (
	// OpSetSysctl writes Value to sysctl Key.
	OpSetSysctl Op = "set-sysctl"
	// OpNewChain creates Table/Chain.
	OpNewChain Op = "new-chain"
	// OpDeleteChain deletes the empty, unreferenced Table/Chain.
	OpDeleteChain Op = "delete-chain"
	// OpInsertRule inserts Rule at Pos of Table/Chain.
	OpInsertRule Op = "insert-rule"
	// OpDeleteRule deletes the first rule of Table/Chain equal to Rule.
	OpDeleteRule Op = "delete-rule"
	// OpSetPolicy sets the policy of Table/Chain to Value.
	OpSetPolicy Op = "set-policy"
	// OpWriteState writes Value to the state file Key.
	OpWriteState Op = "write-state"
	// OpRemoveState removes the state file Key.
	OpRemoveState Op = "remove-state"
)

// Change is one modification of the host, in the order it is (or would be)
// made. JSON tags make a dry run printable as is.
type Change struct {
	Op Op `json:"op"`
	// Table and Chain locate iptables changes.
	Table string `json:"table,omitempty"`
	Chain string `json:"chain,omitempty"`
	// Pos is the 1-based rule position for rule inserts and deletes.
	Pos int `json:"pos,omitempty"`
	// Rule is the rule's arguments after "-A CHAIN".
	Rule []string `json:"rule,omitempty"`
	// Key names the sysctl or the state file.
	Key string `json:"key,omitempty"`
	// Value is the new sysctl value, policy or state file content.
	Value string `json:"value,omitempty"`
}

// String renders the change as one line for logs.
func (c Change) String() string {
	switch c.Op {
	case OpSetSysctl:
		return fmt.Sprintf("set sysctl %s=%s", c.Key, c.Value)
	case OpNewChain, OpDeleteChain:
		return fmt.Sprintf("%s %s/%s", c.Op, c.Table, c.Chain)
	case OpInsertRule, OpDeleteRule:
		return fmt.Sprintf("%s %s/%s #%d: %s", c.Op, c.Table, c.Chain, c.Pos, spec(c.Rule))
	case OpSetPolicy:
		return fmt.Sprintf("set policy %s/%s %s", c.Table, c.Chain, c.Value)
	case OpWriteState:
		return fmt.Sprintf("write state %s=%s", c.Key, strings.TrimSpace(c.Value))
	case OpRemoveState:
		return fmt.Sprintf("remove state %s", c.Key)
	}
	return string(c.Op)
}

// Result reports what Apply or Cleanup changed.
type Result struct {
	// Changes are the changes made, in order. Empty when the host was
	// already as wanted.
	Changes []Change `json:"changes"`
	// Notes are facts worth a log line that changed nothing, e.g. a chain
	// kept because it holds someone else's rules.
	Notes []string `json:"notes,omitempty"`
}

// Changed reports whether anything was modified.
func (r Result) Changed() bool { return len(r.Changes) > 0 }
