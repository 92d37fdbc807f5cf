package registry

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/reconciler"
)

// PutReport stores the leader's latest reconcile report, replacing the
// previous one. Every host reads it to show the cluster's state, so its
// error text is scrubbed of credentials first.
func (r *Registry) PutReport(ctx context.Context, rep reconciler.Report) error {
	rep.Error = cloud.Redact(rep.Error)
	b, err := json.Marshal(rep)
	if err != nil {
		return fmt.Errorf("encode reconcile report: %w", err)
	}
	ctx, cancel := r.reqCtx(ctx)
	defer cancel()
	if _, err := r.client.Put(ctx, r.reportKey, string(b)); err != nil {
		return fmt.Errorf("write reconcile report %s: %w", r.reportKey, err)
	}
	return nil
}

// Report reads the latest reconcile report; false when no leader has
// written one yet.
func (r *Registry) Report(ctx context.Context) (reconciler.Report, bool, error) {
	ctx, cancel := r.reqCtx(ctx)
	defer cancel()
	resp, err := r.client.Get(ctx, r.reportKey)
	if err != nil {
		return reconciler.Report{}, false, fmt.Errorf("read reconcile report %s: %w", r.reportKey, err)
	}
	if len(resp.Kvs) == 0 {
		return reconciler.Report{}, false, nil
	}
	var rep reconciler.Report
	if err := json.Unmarshal(resp.Kvs[0].Value, &rep); err != nil {
		return reconciler.Report{}, false, fmt.Errorf("reconcile report %s is not valid JSON: %w", r.reportKey, err)
	}
	return rep, true, nil
}
