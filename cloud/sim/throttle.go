package sim

import (
	"math"
	"time"
)

// bucket is a token bucket. A nil bucket lets everything through.
type bucket struct {
	capacity float64
	refill   float64 // tokens per second
	tokens   float64
	last     time.Time
}

func newBucket(spec BucketSpec, now time.Time) *bucket {
	if spec.Capacity <= 0 {
		return nil
	}
	c := float64(spec.Capacity)
	return &bucket{capacity: c, refill: spec.RefillPerSecond, tokens: c, last: now}
}

// take removes one token if there is one.
func (b *bucket) take(now time.Time) bool {
	if b == nil {
		return true
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = math.Min(b.capacity, b.tokens+elapsed*b.refill)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// resetBuckets refills both buckets from the current behaviour. Callers hold
// s.mu (or own s exclusively).
func (s *Server) resetBuckets() {
	now := time.Now()
	s.reads = newBucket(s.beh.throttle.Reads, now)
	s.writes = newBucket(s.beh.throttle.Writes, now)
}

// take charges one call of the class to its bucket and reports whether
// there was a token.
func (s *Server) take(class string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.reads
	if class == classWrite {
		b = s.writes
	}
	return b.take(time.Now())
}

// admit charges one RPC call of the class to its bucket.
func (s *Server) admit(class string) *apiError {
	if !s.take(class) {
		return badRequest(CodeThrottling, "Request was denied due to user flow control (%s bucket empty).", class)
	}
	return nil
}
