package textline

import (
	"slices"
	"strings"
	"testing"
)

func TestLines(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{" \n\t\r\n ", nil},
		{"one", []string{"one"}},
		{"  two   words \t", []string{"two words"}},
		{"a: b\nc: d", []string{"a: b", "c: d"}},
		{"crlf\r\nline\r\n", []string{"crlf", "line"}},
		{"yaml: unmarshal errors:\n  line 3: field x not found", []string{"yaml: unmarshal errors:", "line 3: field x not found"}},
		{"gap\n\n\nafter", []string{"gap", "after"}},
	} {
		if got := Lines(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("Lines(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}

func TestJoin(t *testing.T) {
	for _, tc := range []struct {
		in, sep, want string
	}{
		{"", " ", ""},
		{"read a\nread b", "; ", "read a; read b"},
		{"read a\nread b", " ", "read a read b"},
		{"  spaced \t out\n\n  next  ", "; ", "spaced out; next"},
		{"x\r\ny", " | ", "x | y"},
	} {
		if got := Join(tc.in, tc.sep); got != tc.want {
			t.Errorf("Join(%q, %q) = %q; want %q", tc.in, tc.sep, got, tc.want)
		}
	}
}

// TestJoinSpaceIsFields: with a space, Join is exactly the
// strings.Fields flattening that its callers used before it existed.
func TestJoinSpaceIsFields(t *testing.T) {
	for _, s := range []string{"", "a", " a  b ", "a\nb", "a\r\n\tb\n\n", "x\u00a0y\vz\fw", "ünï\u2028cödé"} {
		if got, want := Join(s, " "), strings.Join(strings.Fields(s), " "); got != want {
			t.Errorf("Join(%q, \" \") = %q; want %q", s, got, want)
		}
	}
}
