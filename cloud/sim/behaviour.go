package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/vpcroute/vpcroute/internal/textline"
)

// conflictCodes are the answers of the real API to a change in a busy VPC.
var conflictCodes = []string{CodeIncorrectEntryStatus, CodeTaskConflict, CodeOperationConflict}

// ConflictAlternate cycles through the three conflict codes.
const ConflictAlternate = "alternate"

// behaviour is Behaviour with the defaults resolved.
type behaviour struct {
	pendingDelay    time.Duration
	quota           int
	conflictCode    string
	latency         time.Duration
	throttle        ThrottleSpec
	verifySignature bool
	stsLifetime     time.Duration
}

// resolveBehaviour validates b and fills in the defaults of the cloud.
func resolveBehaviour(b Behaviour, d dialect) (behaviour, error) {
	quota := d.defaultQuota()
	r := behaviour{pendingDelay: DefaultPendingDelay, quota: quota, conflictCode: CodeIncorrectEntryStatus,
		latency: b.Latency, throttle: b.Throttle, verifySignature: true, stsLifetime: DefaultSTSLifetime}
	if b.PendingDelay != nil {
		if *b.PendingDelay < 0 {
			return r, paramError("behaviour.pendingDelay", b.PendingDelay.String(), "a duration of 0 or more, such as 200ms")
		}
		r.pendingDelay = *b.PendingDelay
	}
	switch {
	case b.Quota < 0:
		return r, paramError("behaviour.quota", fmt.Sprint(b.Quota), fmt.Sprintf("a positive number of custom entries per route table (0 means %d)", quota))
	case b.Quota > 0:
		r.quota = b.Quota
	}
	if b.ConflictCode != "" {
		if !slices.Contains(conflictCodes, b.ConflictCode) && b.ConflictCode != ConflictAlternate {
			return r, paramError("behaviour.conflictCode", b.ConflictCode, "IncorrectRouteEntryStatus, TaskConflict, OperationConflict or alternate")
		}
		r.conflictCode = b.ConflictCode
	}
	if b.Latency < 0 {
		return r, paramError("behaviour.latency", b.Latency.String(), "a duration of 0 or more")
	}
	for _, nb := range []struct {
		name string
		bk   BucketSpec
	}{{"reads", b.Throttle.Reads}, {"writes", b.Throttle.Writes}} {
		name, bk := nb.name, nb.bk
		if bk.Capacity < 0 {
			return r, paramError("behaviour.throttle."+name+".capacity", fmt.Sprint(bk.Capacity), "0 (no limit) or more tokens")
		}
		if bk.RefillPerSecond < 0 {
			return r, paramError("behaviour.throttle."+name+".refillPerSecond", fmt.Sprint(bk.RefillPerSecond), "0 or more tokens per second")
		}
	}
	switch b.Signature {
	case "", "verify":
	case "ignore":
		r.verifySignature = false
	default:
		return r, paramError("behaviour.signature", b.Signature, "verify or ignore")
	}
	switch {
	case b.STSLifetime < 0:
		return r, paramError("behaviour.stsLifetime", b.STSLifetime.String(), "a positive duration such as 6h")
	case b.STSLifetime > 0:
		r.stsLifetime = b.STSLifetime
	}
	return r, nil
}

// spec renders the resolved behaviour back, every default spelled out.
func (r behaviour) spec() Behaviour {
	d := r.pendingDelay
	sig := "verify"
	if !r.verifySignature {
		sig = "ignore"
	}
	return Behaviour{PendingDelay: &d, Quota: r.quota, ConflictCode: r.conflictCode, Latency: r.latency,
		Throttle: r.throttle, Signature: sig, STSLifetime: r.stsLifetime}
}

// Behaviour returns the current behaviour with every default filled in.
func (s *Server) Behaviour() Behaviour {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.beh.spec()
}

// SetBehaviour replaces the behaviour at run time. Entries already in
// transition keep their timers; a throttle change refills the buckets.
func (s *Server) SetBehaviour(b Behaviour) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := resolveBehaviour(b, s.w.d)
	if err != nil {
		return err
	}
	throttleChanged := r.throttle != s.beh.throttle
	s.beh = r
	if throttleChanged {
		s.resetBuckets()
	}
	return nil
}

// SetPendingDelay changes how long future transitions take.
func (s *Server) SetPendingDelay(d time.Duration) error {
	b := s.Behaviour()
	b.PendingDelay = &d
	return s.SetBehaviour(b)
}

// behaviourJSON is the wire form of Behaviour: durations as strings ("2s"),
// every field optional so a POST patches only what it names.
type behaviourJSON struct {
	PendingDelay *string       `json:"pendingDelay,omitempty"`
	Quota        *int          `json:"quota,omitempty"`
	ConflictCode *string       `json:"conflictCode,omitempty"`
	Latency      *string       `json:"latency,omitempty"`
	Throttle     *ThrottleSpec `json:"throttle,omitempty"`
	Signature    *string       `json:"signature,omitempty"`
	STSLifetime  *string       `json:"stsLifetime,omitempty"`
}

// MarshalJSON writes durations as strings such as "2s".
func (b Behaviour) MarshalJSON() ([]byte, error) {
	str := func(d time.Duration) *string { s := d.String(); return &s }
	j := behaviourJSON{Quota: &b.Quota, ConflictCode: &b.ConflictCode, Latency: str(b.Latency),
		Throttle: &b.Throttle, Signature: &b.Signature, STSLifetime: str(b.STSLifetime)}
	if b.PendingDelay != nil {
		j.PendingDelay = str(*b.PendingDelay)
	}
	return json.Marshal(j)
}

// UnmarshalJSON overwrites only the fields present, so decoding onto the
// current behaviour applies a patch. Unknown fields are errors.
func (b *Behaviour) UnmarshalJSON(data []byte) error {
	var j behaviourJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return fmt.Errorf("behaviour: %w", err)
	}
	dur := func(field string, s *string, dst *time.Duration) error {
		if s == nil {
			return nil
		}
		d, err := time.ParseDuration(*s)
		if err != nil {
			return paramError("behaviour."+field, *s, "a duration such as 200ms or 2s")
		}
		*dst = d
		return nil
	}
	if j.PendingDelay != nil {
		var d time.Duration
		if err := dur("pendingDelay", j.PendingDelay, &d); err != nil {
			return err
		}
		b.PendingDelay = &d
	}
	if err := dur("latency", j.Latency, &b.Latency); err != nil {
		return err
	}
	if err := dur("stsLifetime", j.STSLifetime, &b.STSLifetime); err != nil {
		return err
	}
	if j.Quota != nil {
		b.Quota = *j.Quota
	}
	if j.ConflictCode != nil {
		b.ConflictCode = *j.ConflictCode
	}
	if j.Throttle != nil {
		b.Throttle = *j.Throttle
	}
	if j.Signature != nil {
		b.Signature = *j.Signature
	}
	return nil
}

// UnmarshalYAML checks the duration fields first so a bad value is reported
// with its field name, accepts a bare 0 as a duration, then decodes strictly.
func (b *Behaviour) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, val := n.Content[i].Value, n.Content[i+1]
			switch key {
			case "pendingDelay", "latency", "stsLifetime":
				if _, err := time.ParseDuration(val.Value); val.Kind != yaml.ScalarNode || err != nil {
					return paramError("behaviour."+key, val.Value, "a duration such as 200ms or 2s")
				}
				val.Tag = "!!str" // yaml.v3 refuses an integer 0 as a time.Duration
			}
		}
	}
	data, err := yaml.Marshal(n)
	if err != nil {
		return fmt.Errorf("behaviour: %w", err)
	}
	type plain Behaviour // no UnmarshalYAML: no recursion
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode((*plain)(b)); err != nil {
		return fmt.Errorf("behaviour: %s", textline.Join(err.Error(), "; "))
	}
	return nil
}
