package reconciler

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/vpcroute/vpcroute/cloud"
)

// termChanges is a plan touching two tables with every kind of change: a
// move (10.1), a deletion (10.2) and a creation (10.3) in each.
func termChanges() (*replacingProvider, Changes) {
	f := &replacingProvider{fakeProvider: newFake("vtb-1", "vtb-2")}
	var ch Changes
	for _, table := range []string{"vtb-1", "vtb-2"} {
		f.put(owned(table, "10.1.0.0/24", iA))
		f.put(owned(table, "10.2.0.0/24", iA))
		ch.Delete = append(ch.Delete, owned(table, "10.1.0.0/24", iA), owned(table, "10.2.0.0/24", iA))
		ch.Create = append(ch.Create, owned(table, "10.1.0.0/24", iB), owned(table, "10.3.0.0/24", iB))
	}
	return f, ch
}

func TestApplySendsNothingOnceTheTermEnded(t *testing.T) {
	f, ch := termChanges()
	before := f.state()
	errDeposed := errors.New("leader key deleted")
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errDeposed)

	err := Apply(ctx, f, ch)
	if calls := f.calls0(); len(calls) != 0 {
		t.Errorf("Apply under an ended term called the provider: %v", calls)
	}
	if got := f.state(); got != before {
		t.Errorf("tables changed: %s, want %s", got, before)
	}
	if !errors.Is(err, context.Canceled) || !errors.Is(err, errDeposed) || !strings.Contains(err.Error(), "move 1 routes in vtb-1: stopped") {
		t.Errorf("err = %v; want the first step named, stopped by the ended term", err)
	}
}

// losingProvider ends the term while its first deletion is being sent, as
// a lost etcd lease would in the middle of a converge.
type losingProvider struct {
	*replacingProvider
	lose func()
}

func (l *losingProvider) DeleteRoutes(ctx context.Context, table string, rs []cloud.Route) error {
	err := l.replacingProvider.DeleteRoutes(ctx, table, rs)
	l.lose()
	return err
}

func TestApplyStopsAtTheNextStepWhenTheTermEnds(t *testing.T) {
	f, ch := termChanges()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := &losingProvider{replacingProvider: f, lose: cancel}

	err := Apply(ctx, p, ch)
	// Both moves went before the term ended, and the first deletion was
	// under way; nothing after it.
	calls := f.calls0()
	if calls["ReplaceRoutes"] != 2 || calls["DeleteRoutes"] != 1 || calls["CreateRoutes"] != 0 {
		t.Errorf("calls = %v; want the 2 moves and 1 deletion sent before the term ended, nothing after", calls)
	}
	if got, want := f.state(), "+vtb-1:10.1.0.0/24>i-bbb +vtb-2:10.1.0.0/24>i-bbb +vtb-2:10.2.0.0/24>i-aaa"; got != want {
		t.Errorf("tables = %s, want %s", got, want)
	}
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "create 1 routes in vtb-1: stopped") {
		t.Errorf("err = %v; want the creation in vtb-1 stopped", err)
	}
}

// creatingLoser ends the term while its first creation is being sent.
type creatingLoser struct {
	*fakeProvider
	lose func()
}

func (l *creatingLoser) CreateRoutes(ctx context.Context, table string, rs []cloud.Route) error {
	err := l.fakeProvider.CreateRoutes(ctx, table, rs)
	l.lose()
	return err
}

// TestApplyDeletesNothingOnceTheTermEnds: the term ends while vtb-1's
// creation is sent; vtb-2's deletion, the next step, is not sent.
func TestApplyDeletesNothingOnceTheTermEnds(t *testing.T) {
	f := newFake("vtb-1", "vtb-2")
	f.put(owned("vtb-1", "10.9.0.0/24", iA))
	f.put(owned("vtb-2", "10.2.0.0/24", iA))
	ch := Changes{Create: []cloud.Route{owned("vtb-1", "10.3.0.0/24", iB)},
		Delete: []cloud.Route{owned("vtb-1", "10.9.0.0/24", iA), owned("vtb-2", "10.2.0.0/24", iA)}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	err := Apply(ctx, &creatingLoser{fakeProvider: f, lose: cancel}, ch)
	if calls := f.calls0(); calls["CreateRoutes"] != 1 || calls["DeleteRoutes"] != 1 {
		t.Errorf("calls = %v; want vtb-1's deletion and creation only", calls)
	}
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "delete 1 routes in vtb-2: stopped") {
		t.Errorf("err = %v; want vtb-2's deletion stopped", err)
	}
}
