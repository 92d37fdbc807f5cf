package status

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/ from the current output")

func TestRenderGolden(t *testing.T) {
	for name, d := range map[string]Document{
		"cluster": clusterDocument(),
		"self":    selfDocument(),
		"failing": failingDocument(),
		"empty":   {Generated: t0},
	} {
		t.Run(name, func(t *testing.T) {
			var b strings.Builder
			if err := Render(&b, d); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "render-"+name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -run TestRenderGolden -update to create it)", err)
			}
			if b.String() != string(want) {
				t.Errorf("Render differs from %s (go test -run TestRenderGolden -update rewrites it):\n--- got\n%s--- want\n%s", path, b.String(), want)
			}
			// The golden file holds whatever the code printed when it was
			// last rewritten; the meaning is checked on its own.
			checkMeaning(t, d, b.String())
		})
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errors.New("disk full")
	}
	f.n--
	return len(p), nil
}

func TestRenderWriteError(t *testing.T) {
	if err := Render(&failWriter{n: 3}, clusterDocument()); err == nil || err.Error() != "disk full" {
		t.Errorf("Render to a failing writer: %v, want disk full", err)
	}
}

func TestAge(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                                     "0s",
		59*time.Second + 999*time.Millisecond: "59s",
		time.Minute:                           "1m0s",
		time.Hour - time.Second:               "59m59s",
		time.Hour:                             "1h0m",
		25*time.Hour + 30*time.Minute:         "1d1h",
		400 * 24 * time.Hour:                  "400d0h",
	} {
		if got := age(d); got != want {
			t.Errorf("age(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		1234567 * time.Nanosecond:              "1ms",
		350 * time.Millisecond:                 "350ms",
		1523 * time.Millisecond:                "1.52s",
		125*time.Second + 400*time.Millisecond: "2m5s",
	} {
		if got := duration(d); got != want {
			t.Errorf("duration(%s) = %q, want %q", d, got, want)
		}
	}
}
