package cloud

import (
	"context"
	"slices"
	"testing"
	"time"
)

func TestProgress(t *testing.T) {
	Progress(context.Background()) // no hook: nothing happens, no panic

	var got []string
	outer := WithProgress(context.Background(), func() { got = append(got, "outer") })
	Progress(outer)
	if !slices.Equal(got, []string{"outer"}) {
		t.Fatalf("one hook: %v", got)
	}

	// Values survive derivation (timeouts, cancels) and nesting keeps both.
	derived, cancel := context.WithTimeout(outer, time.Minute)
	defer cancel()
	inner := WithProgress(derived, func() { got = append(got, "inner") })
	got = nil
	Progress(inner)
	if !slices.Equal(got, []string{"outer", "inner"}) {
		t.Fatalf("nested hooks: %v", got)
	}
	got = nil
	Progress(derived)
	if !slices.Equal(got, []string{"outer"}) {
		t.Fatalf("the parent must not see the inner hook: %v", got)
	}
	if WithProgress(outer, nil) != outer {
		t.Fatal("a nil hook must leave ctx as it is")
	}
}
