package reconciler_test

import (
	"fmt"
	"testing"
	"time"
)

// benchPacingCases are the leader converges of issue 14: an Alibaba
// stand-in with two route tables, Pending 1 s and 190 hosts (its
// measurement), and Pending 2 s with 200 hosts (make bench's figure, with
// a second table).
var benchPacingCases = []struct {
	pending time.Duration
	hosts   int
}{{time.Second, 190}, {2 * time.Second, 200}}

// BenchmarkAlibabaPacing times a leader converging every host into two
// route tables of one VPC from empty, beside its serialization bound
// (batches × tables × Pending), with the reads per batch. Run it with
// -benchtime=1x, like BenchmarkReconcile.
func BenchmarkAlibabaPacing(b *testing.B) {
	// Simulator-only credentials: they open nothing but the simulator.
	b.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI-test")
	b.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "test-secret")
	b.Setenv("ALIBABA_CLOUD_SECURITY_TOKEN", "")
	for _, c := range benchPacingCases {
		b.Run(fmt.Sprintf("tables=2/pending=%s/hosts=%d", c.pending, c.hosts), func(b *testing.B) {
			var last *benchWorld
			defer func() {
				if last != nil {
					last.close()
				}
			}()
			benchConvergeWith(b, c.hosts, c.pending, 2, func(w *benchWorld) {
				if last != nil {
					last.close()
				}
				last = w
			})
		})
	}
}
