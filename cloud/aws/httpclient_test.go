package aws

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

type captureClient struct{ got *http.Request }

func (c *captureClient) Do(r *http.Request) (*http.Response, error) {
	c.got = r
	return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
}

// TestOwnBodiesSurviveTheSDKClosingTheOriginal: whatever happens to the
// SDK's body after the call (it closes it once the answer's headers are
// in), the transport's copy still reads whole.
func TestOwnBodiesSurviveTheSDKClosingTheOriginal(t *testing.T) {
	form := "Action=DescribeRouteTables&Version=2016-11-15&RouteTableId.1=rtb-1"
	orig := io.NopCloser(strings.NewReader(form))
	req, err := http.NewRequest(http.MethodPost, "http://127.0.0.1:1/", orig)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(len(form))
	next := &captureClient{}
	if _, err := (ownBodies{next: next}).Do(req); err != nil {
		t.Fatal(err)
	}
	if next.got.Body == req.Body {
		t.Fatal("the transport got the SDK's body, not its own")
	}
	_ = req.Body.Close()
	for range 2 { // the body and a copy for a redirect or retry
		b, err := io.ReadAll(next.got.Body)
		if err != nil || string(b) != form || next.got.ContentLength != int64(len(form)) {
			t.Errorf("transport read %q (%v), length %d", b, err, next.got.ContentLength)
		}
		if next.got.Body, err = next.got.GetBody(); err != nil {
			t.Fatal(err)
		}
	}
	// No body: passed through untouched.
	empty, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:1/", nil)
	if _, err := (ownBodies{next: next}).Do(empty); err != nil || next.got != empty {
		t.Errorf("a request without body was changed: %v", err)
	}
}
