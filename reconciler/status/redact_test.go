package status

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
)

const (
	leakToken = "CAISleakedSecurityToken0123456789abcdef"
	leakURL   = `Post "http://127.0.0.1:41235/?AccessKeyId=STS.leak&SecurityToken=` + leakToken + `&Signature=c2lnbmF0dXJl": EOF`
)

// TestServedTextsCarryNoCredentials: every free-text field of /status and
// the /healthz, /readyz reasons are scrubbed when served, and the
// daemon's own document is not modified.
func TestServedTextsCarryNoCredentials(t *testing.T) {
	doc := clusterDocument()
	doc.Reconcile.Result, doc.Reconcile.Error = "error", "list routes of vtb-1: DescribeRouteEntryList: "+leakURL
	doc.Errors = append(doc.Errors, ErrorEntry{Component: "reconciler", Message: leakURL, Count: 1})
	doc.Host.HostConfig.Error = "password=" + leakToken
	doc.Host.HostConfig.Drift = append(doc.Host.HostConfig.Drift, `"SecurityToken":"`+leakToken+`"`)
	doc.Hosts[0].HostConfig = "token=" + leakToken
	sick := func() error { return errors.New("registry: http://root:" + leakToken + "@127.0.0.1:2379 unreachable") }
	h := NewHandler(func() Document { return doc }, sick, sick, nil)

	for _, path := range []string{"/status", "/healthz", "/readyz"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		body := rec.Body.String()
		if strings.Contains(body, leakToken) || strings.Contains(body, "STS.leak") {
			t.Errorf("%s leaks a credential:\n%s", path, body)
		}
		if !strings.Contains(body, "[redacted]") {
			t.Errorf("%s: nothing was redacted (did the secrets reach it?):\n%s", path, body)
		}
	}
	if !strings.Contains(doc.Reconcile.Error, leakToken) || !strings.Contains(doc.Errors[len(doc.Errors)-1].Message, leakToken) ||
		!strings.Contains(doc.Hosts[0].HostConfig, leakToken) {
		t.Error("serving modified the daemon's document")
	}
}

func TestErrorsAddRedacts(t *testing.T) {
	var e Errors
	e.Add("reconciler", errors.New(leakURL))
	got := e.List()
	if len(got) != 1 || strings.Contains(got[0].Message, leakToken) ||
		got[0].Message != `Post "http://127.0.0.1:41235/?[redacted]": EOF` {
		t.Errorf("errors = %+v", got)
	}
}
