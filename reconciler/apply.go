package reconciler

import (
	"context"
	"errors"
	"fmt"

	"github.com/vpcroute/vpcroute/cloud"
)

// Apply sends a plan's changes through the provider, table by table:
// deletions first, so that a table near its quota has room for the
// creations. It returns every error met; a failure in one table does not
// stop the others.
func Apply(ctx context.Context, p cloud.Provider, cluster string, ch Changes) error {
	var errs []error
	for _, table := range tablesOf(ch) {
		if del := routesIn(ch.Delete, table); len(del) > 0 {
			if err := p.DeleteRoutes(ctx, table, cluster, del); err != nil {
				errs = append(errs, fmt.Errorf("delete %d routes in %s: %w", len(del), table, err))
			}
		}
		if cr := routesIn(ch.Create, table); len(cr) > 0 {
			if err := p.CreateRoutes(ctx, table, cluster, cr); err != nil {
				errs = append(errs, err)
			}
		}
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
