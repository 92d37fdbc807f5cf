package reconciler

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/vpcroute/vpcroute/cloud"
)

// leakingProvider fails every table read with an error text that holds a
// signed request URL, as a provider that forgot to scrub would.
type leakingProvider struct{ *fakeProvider }

const leakedToken = "CAISleakedSecurityToken0123456789abcdef"

func (leakingProvider) Routes(context.Context, string) ([]cloud.Route, error) {
	return nil, errors.New("list routes of vtb-1: DescribeRouteEntryList: Post \"http://127.0.0.1:41235/?AccessKeyId=STS.leak&SecurityToken=" +
		leakedToken + "&Signature=c2lnbmF0dXJl\":\nEOF")
}

// TestReportErrorCarriesNoCredentials: the report goes to etcd, which
// every host reads; its error is one line without the query string.
func TestReportErrorCarriesNoCredentials(t *testing.T) {
	l, _ := newTestLoop(t, newFake("vtb-1"), func(c *LoopConfig) { c.Provider = leakingProvider{newFake("vtb-1")} })
	rep := l.Pass(context.Background(), []Host{host("i-aaa", 1, "10.1.0.0/24", 0)}, "start")
	want := `list routes of vtb-1: DescribeRouteEntryList: Post "http://127.0.0.1:41235/?[redacted]": EOF`
	if rep.Result != ResultError || rep.Error != want {
		t.Errorf("report %s %q, want error %q", rep.Result, rep.Error, want)
	}
	if strings.Contains(rep.Error, leakedToken) || strings.Contains(rep.Error, "STS.leak") {
		t.Errorf("report error leaks a credential: %s", rep.Error)
	}
}
