package httpbody

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

// failing is a request body whose Read or Close fails.
type failing struct {
	io.Reader
	readErr, closeErr error
}

func (f failing) Read(p []byte) (int, error) {
	if f.readErr != nil {
		return 0, f.readErr
	}
	return f.Reader.Read(p)
}

func (f failing) Close() error { return f.closeErr }

func TestInMemory(t *testing.T) {
	const form = "Action=DescribeRouteTables&Version=2016-11-15"
	boom := errors.New("boom")
	for _, tc := range []struct {
		name    string
		body    io.ReadCloser
		same    bool   // the request is passed on as it is
		want    string // the copy's body
		wantErr error
	}{
		{name: "nil body", body: nil, same: true},
		{name: "NoBody", body: http.NoBody, same: true},
		{name: "form", body: io.NopCloser(strings.NewReader(form)), want: form},
		{name: "empty reader", body: io.NopCloser(strings.NewReader("")), want: ""},
		{name: "read fails", body: failing{Reader: strings.NewReader(form), readErr: boom}, wantErr: boom},
		{name: "close fails", body: failing{Reader: strings.NewReader(form), closeErr: boom}, wantErr: boom},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := http.NewRequest(http.MethodPost, "http://127.0.0.1:1/", tc.body)
			if err != nil {
				t.Fatal(err)
			}
			got, err := InMemory(r)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || !strings.HasPrefix(err.Error(), "read request body: ") {
					t.Fatalf("InMemory = %v; want read request body: %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.same {
				if got != r {
					t.Fatal("a request without a body was copied")
				}
				return
			}
			if got == r || got.Body == r.Body {
				t.Fatal("the copy shares the original's body")
			}
			if got.ContentLength != int64(len(tc.want)) {
				t.Errorf("ContentLength = %d; want %d", got.ContentLength, len(tc.want))
			}
			_ = r.Body.Close() // as the SDK does once the answer's headers are in
			for i := range 2 { // the body, then a copy for a redirect or retry
				b, err := io.ReadAll(got.Body)
				if err != nil || string(b) != tc.want {
					t.Errorf("read %d: %q, %v; want %q", i, b, err, tc.want)
				}
				if got.Body, err = got.GetBody(); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// roundTripFunc is an http.RoundTripper from a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestTransport(t *testing.T) {
	var sent []string
	tr := Transport{Next: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		b, err := io.ReadAll(r.Body)
		sent = append(sent, string(b))
		return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody}, err
	})}
	r, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:1/", strings.NewReader("a=1"))
	if _, err := tr.RoundTrip(r); err != nil || len(sent) != 1 || sent[0] != "a=1" {
		t.Fatalf("RoundTrip: %v, sent %q", err, sent)
	}
	bad, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:1/", failing{Reader: strings.NewReader("x"), readErr: io.ErrUnexpectedEOF})
	if _, err := tr.RoundTrip(bad); !errors.Is(err, io.ErrUnexpectedEOF) || len(sent) != 1 {
		t.Fatalf("RoundTrip with an unreadable body: %v, sent %q; want the read error and nothing sent", err, sent)
	}
}
