package reconciler

import (
	"fmt"
	"sort"
	"strings"
)

// Policy decides which kinds of change a plan may contain. Policies are
// one-method values chosen by name.
type Policy interface {
	// AllowDelete reports whether owned entries that are no longer desired
	// may be deleted.
	AllowDelete() bool
}

type syncPolicy struct{}

func (syncPolicy) AllowDelete() bool { return true }

type upsertOnlyPolicy struct{}

func (upsertOnlyPolicy) AllowDelete() bool { return false }

// Named policies.
var (
	// PolicySync creates missing routes and deletes stale owned ones.
	PolicySync Policy = syncPolicy{}
	// PolicyUpsertOnly creates missing routes and never deletes.
	PolicyUpsertOnly Policy = upsertOnlyPolicy{}
)

var policies = map[string]Policy{"sync": PolicySync, "upsert-only": PolicyUpsertOnly}

// PolicyByName returns the policy called name, or a one-line error.
func PolicyByName(name string) (Policy, error) {
	if p, ok := policies[name]; ok {
		return p, nil
	}
	names := make([]string, 0, len(policies))
	for n := range policies {
		names = append(names, n)
	}
	sort.Strings(names)
	return nil, fmt.Errorf("policy %q is invalid: expected one of %s", name, strings.Join(names, ", "))
}
