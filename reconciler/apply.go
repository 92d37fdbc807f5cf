package reconciler

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/vpcroute/vpcroute/cloud"
)

// Apply sends a plan's changes through the provider, table by table, for
// the cluster the provider was built for (cloud.Settings.Cluster), which
// must be the plan's: deletions first, so that a table near its quota has
// room for the creations. It returns every error met; a failure in one
// table does not stop the others.
//
// A deletion and a creation of the same destination in the same table is a
// move to another target; a provider that implements cloud.Replacer does it
// in one atomic call instead.
//
// ctx is the leadership term's: it is checked before each table and each
// kind of change, and once it has ended nothing more is sent.
func Apply(ctx context.Context, p cloud.Provider, ch Changes) error {
	var errs []error
	if r, ok := p.(cloud.Replacer); ok {
		var moves []cloud.Route
		ch, moves = splitMoves(ch)
		for _, table := range tablesOf(Changes{Create: moves}) {
			mv := routesIn(moves, table)
			if err := cloud.Stopped(ctx, fmt.Sprintf("move %d routes in %s", len(mv), table)); err != nil {
				return errors.Join(append(errs, err)...)
			}
			if err := r.ReplaceRoutes(ctx, table, mv); err != nil {
				errs = append(errs, err)
			}
		}
	}
	for _, table := range tablesOf(ch) {
		if del := routesIn(ch.Delete, table); len(del) > 0 {
			what := fmt.Sprintf("delete %d routes in %s", len(del), table)
			if err := cloud.Stopped(ctx, what); err != nil {
				return errors.Join(append(errs, err)...)
			}
			if err := p.DeleteRoutes(ctx, table, del); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", what, err))
			}
		}
		if cr := routesIn(ch.Create, table); len(cr) > 0 {
			if err := cloud.Stopped(ctx, fmt.Sprintf("create %d routes in %s", len(cr), table)); err != nil {
				return errors.Join(append(errs, err)...)
			}
			if err := p.CreateRoutes(ctx, table, cr); err != nil {
				errs = append(errs, err)
			}
		}
		cloud.Progress(ctx) // a table done is a step of the pass (health)
	}
	return errors.Join(errs...)
}

func tablesOf(ch Changes) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range append(append([]cloud.Route{}, ch.Delete...), ch.Create...) {
		if !seen[r.TableID] {
			seen[r.TableID] = true
			out = append(out, r.TableID)
		}
	}
	return out
}

func routesIn(rs []cloud.Route, table string) []cloud.Route {
	var out []cloud.Route
	for _, r := range rs {
		if r.TableID == table {
			out = append(out, r)
		}
	}
	return out
}

// splitMoves takes out of ch every creation whose destination is deleted
// in the same table, with that deletion, and returns them as moves.
func splitMoves(ch Changes) (Changes, []cloud.Route) {
	var moves, creates []cloud.Route
	deletes := ch.Delete
	for _, c := range ch.Create {
		i := slices.IndexFunc(deletes, func(d cloud.Route) bool {
			return d.TableID == c.TableID && d.Destination == c.Destination
		})
		if i < 0 {
			creates = append(creates, c)
			continue
		}
		moves = append(moves, c)
		deletes = slices.Delete(slices.Clone(deletes), i, i+1)
	}
	ch.Create, ch.Delete = creates, deletes
	return ch, moves
}
