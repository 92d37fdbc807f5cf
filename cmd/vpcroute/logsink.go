package main

import (
	"go.uber.org/zap/zapcore"

	"github.com/vpcroute/vpcroute/cloud"
)

// redactingSink is where the daemon's and commands' logs go: it passes
// every encoded entry through cloud.Redact before writing it.
//
// Scrubbing the encoded bytes, rather than wrapping the zap core and
// rewriting fields, covers every way a secret can reach a log line with one
// small type: the message, zap.Error and its errorVerbose, zap.String,
// zap.Any of a struct, fields added with Logger.With (already encoded in the
// core's context), stack traces, in both the console and the JSON
// encoding. zap writes each entry with one Write call, so a pair is never
// split across two writes. Redact stops at quotes and backslashes, so the
// JSON stays valid.
type redactingSink struct{ zapcore.WriteSyncer }

// Write writes the scrubbed entry and reports all of p written.
func (s redactingSink) Write(p []byte) (int, error) {
	in := string(p)
	clean := cloud.Redact(in)
	if clean == in {
		return s.WriteSyncer.Write(p)
	}
	if _, err := s.WriteSyncer.Write([]byte(clean)); err != nil {
		return 0, err
	}
	return len(p), nil
}
