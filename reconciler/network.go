package reconciler

import (
	"time"

	"github.com/vpcroute/vpcroute/cloud"
)

// NetworkRead is the VPC's ranges and route tables as read from the cloud
// at At. The daemon reads them at connect (to check the cluster CIDR and
// configure the host) and hands them to the loop (LoopConfig.Network), so
// that the first pass does not read them again.
type NetworkRead struct {
	Network cloud.Network
	// At is when the read was made (before the call: the answer is at
	// least this fresh). Zero: nothing was read.
	At time.Time
}

// Fresh reports whether the read may still be used at now rather than
// read again: it was made, and less than refresh ago.
func (r NetworkRead) Fresh(now time.Time, refresh time.Duration) bool {
	return !r.At.IsZero() && now.Sub(r.At) < refresh
}
