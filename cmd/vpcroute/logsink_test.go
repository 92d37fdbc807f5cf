package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// TestLoggerRedacts logs a credential every way the code could, in both
// formats, and finds none of it in the output; JSON lines stay JSON.
func TestLoggerRedacts(t *testing.T) {
	const token = "CAISloggedSecurityToken0123456789abcdef"
	signedURL := "http://127.0.0.1:41235/?AccessKeyId=STS.logged&SecurityToken=" + token + "&Signature=c2ln"
	transport := fmt.Errorf("DescribeVpcs: %w", errors.New(`Post "`+signedURL+`": EOF`))
	type creds struct{ AccessKeyId, SecurityToken string }
	for _, format := range []string{"console", "json"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			log, err := newLoggerTo(&options{LogLevel: "debug", LogFormat: format}, zapcore.AddSync(&buf))
			if err != nil {
				t.Fatal(err)
			}
			log.With(zap.String("endpoint", signedURL)).Warn("retrying cloud call", zap.Error(transport))
			log.Debug("credentials", zap.Any("creds", creds{"STS.logged", token}), zap.String("body", `{"SecurityToken":"`+token+`"}`))
			log.Error("failed: " + signedURL)
			out := buf.String()
			if strings.Contains(out, token) || strings.Contains(out, "STS.logged") {
				t.Errorf("the log holds a credential:\n%s", out)
			}
			if n := strings.Count(out, "[redacted]"); n < 5 {
				t.Errorf("%d redactions, want at least 5:\n%s", n, out)
			}
			if format == "json" {
				for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
					if !json.Valid([]byte(line)) {
						t.Errorf("not JSON after redaction: %s", line)
					}
				}
			}
		})
	}
}
