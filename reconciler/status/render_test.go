package status

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/vpcroute/vpcroute/reconciler"
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

// A refused record is named with its reason in the report, and on the
// refused host's own status.
func TestRenderRefusedRecords(t *testing.T) {
	d := clusterDocument()
	rep := *d.Reconcile
	rep.RefusedHosts = []reconciler.RefusedHost{{Instance: "i-ccc", Reason: `record says routes go to "NatGateway/ngw-1", but the cloud says instance i-ccc is reached through Instance/i-ccc`}}
	d.Reconcile = &rep
	d.Host.RecordRefused = "instance i-bbb is not listed by the cloud in this VPC"
	var b strings.Builder
	if err := Render(&b, d); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Refused host records: 1\n  i-ccc: record says routes go to \"NatGateway/ngw-1\"",
		"Record       refused by the leader: instance i-bbb is not listed by the cloud in this VPC\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("render lacks %q:\n%s", want, b.String())
		}
	}
}

// evil holds what a host writing its own record, or anyone naming a cloud
// resource, could put in a string: a window-title sequence, a C1 CSI, a
// bidi override, DEL, a newline and a tab.
const evil = "\x1b]0;pwned\x07\u009b31m\u202eDEL\x7f\n\t"

// poison appends suffix to every settable string in v, so that the tests
// below cover every string field of the document, present and future.
func poison(v reflect.Value, suffix string) {
	switch v.Kind() {
	case reflect.String:
		if v.CanSet() {
			v.SetString(v.String() + suffix)
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			poison(v.Elem(), suffix)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Field(i).CanSet() {
				poison(v.Field(i), suffix)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			poison(v.Index(i), suffix)
		}
	}
}

// terminalActive returns the first rune of s a terminal could act on,
// other than a newline, or an invalid byte (as utf8.RuneError).
func terminalActive(s string) (rune, bool) {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r != '\n' && (r < 0x20 || r >= 0x7f && r < 0xa0 || r == '\u202e' || r == utf8.RuneError && size == 1) {
			return r, true
		}
		i += size
	}
	return 0, false
}

// writePoisoned writes the cluster document with suffix appended to every
// string and fails when the output holds anything a terminal acts on.
func writePoisoned(t *testing.T, suffix string, write func(io.Writer, Document) error) (Document, string) {
	t.Helper()
	d := clusterDocument()
	poison(reflect.ValueOf(&d).Elem(), suffix)
	var b bytes.Buffer
	if err := write(&b, d); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if r, ok := terminalActive(out); ok {
		t.Fatalf("output holds %U:\n%s", r, out)
	}
	return d, out
}

func TestRenderEscapesControlCharacters(t *testing.T) {
	_, out := writePoisoned(t, evil+"\xff", Render)
	want := `\x1b]0;pwned\a\u009b31m\u202eDEL\x7f\n\t\xff`
	for _, field := range []string{"i-ccc", "i-aaa", "vtb-spare", "will not change", "xtables lock", "DescribeVpcs", "jump from DOCKER-USER missing"} {
		if !strings.Contains(out, field+want) && !strings.Contains(out, field+")"+want) {
			t.Errorf("%s is not followed by the escaped %q:\n%s", field, evil, out)
		}
	}
	// No string adds a line: as many lines as with a harmless suffix.
	_, clean := writePoisoned(t, "X", Render)
	if got, want := strings.Count(out, "\n"), strings.Count(clean, "\n"); got != want {
		t.Errorf("poisoned output has %d lines, the harmless one %d:\n%s", got, want, out)
	}
}

func TestPrintable(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"i-aaa", "i-aaa"},
		{`quote " and back\slash`, `quote " and back\slash`},
		{"ünïcödé · 路由", "ünïcödé · 路由"},
		{"\x1b]0;pwned\x07", `\x1b]0;pwned\a`},
		{"a\tb\nc\rd", `a\tb\nc\rd`},
		{"\x7f\u0085\u009b", `\x7f\u0085\u009b`},
		{"\u202eevil\u200b", `\u202eevil\u200b`},
		{"bad \xff\xfe utf-8", `bad \xff\xfe utf-8`},
	} {
		if got := printable(tt.in); got != tt.want {
			t.Errorf("printable(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestWriteJSONEscapesControlCharacters(t *testing.T) {
	// And a tag character, outside the BMP.
	d, out := writePoisoned(t, evil+"\U000e0041", WriteJSON)
	if strings.ContainsRune(out, '\U000e0041') || !strings.Contains(out, `\udb40\udc41`) {
		t.Errorf("the tag character is not escaped as a surrogate pair:\n%s", out)
	}
	// The escapes decode back to the same strings.
	var back Document
	if err := json.Unmarshal([]byte(out), &back); err != nil {
		t.Fatal(err)
	}
	if back.Host.Instance != d.Host.Instance || back.Errors[0].Message != d.Errors[0].Message {
		t.Errorf("round trip: %q %q, want %q %q", back.Host.Instance, back.Errors[0].Message, d.Host.Instance, d.Errors[0].Message)
	}
	if !strings.HasSuffix(out, "}\n") || !strings.Contains(out, "\n  \"schemaVersion\"") {
		t.Errorf("not indented JSON:\n%s", out)
	}
}

// A bip Docker does not run yet is named on the host's own lines.
func TestRenderBIPMismatch(t *testing.T) {
	d := clusterDocument()
	d.Host.BIPMismatch = "daemon.json sets bip 10.1.196.1/24 (subnet 10.1.196.0/24) but Docker runs 172.17.0.0/16: restart Docker to move its bridge to the allocated subnet"
	var b strings.Builder
	if err := Render(&b, d); err != nil {
		t.Fatal(err)
	}
	if want := "Docker       daemon.json sets bip 10.1.196.1/24"; !strings.Contains(b.String(), want) {
		t.Errorf("render lacks %q:\n%s", want, b.String())
	}
}
