package status

import (
	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/reconciler"
)

// redacted returns a copy of d with every free-text field scrubbed of
// credentials (cloud.Redact): the last pass's error (possibly written to
// the registry by another, older leader), the recent errors, the host
// configuration's error and drift, and what each host record says of its
// own. The caller's slices and report are not
// modified.
func (d Document) redacted() Document {
	if d.Reconcile != nil {
		r := *d.Reconcile
		r.Error = cloud.Redact(r.Error)
		d.Reconcile = &r
	}
	if d.Errors != nil {
		errs := make([]ErrorEntry, len(d.Errors))
		for i, e := range d.Errors {
			e.Message = cloud.Redact(e.Message)
			errs[i] = e
		}
		d.Errors = errs
	}
	if d.Hosts != nil {
		hosts := make([]reconciler.Host, len(d.Hosts))
		for i, h := range d.Hosts {
			h.HostConfig = cloud.Redact(h.HostConfig)
			hosts[i] = h
		}
		d.Hosts = hosts
	}
	hc := &d.Host.HostConfig
	hc.Error = cloud.Redact(hc.Error)
	if hc.Drift != nil {
		drift := make([]string, len(hc.Drift))
		for i, line := range hc.Drift {
			drift[i] = cloud.Redact(line)
		}
		hc.Drift = drift
	}
	return d
}
