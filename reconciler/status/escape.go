package status

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Every string in a status document comes from the registry (which any
// host may write) or from the cloud: it must not reach a terminal as
// control characters that move the cursor, retitle the window or hide
// text. Render writes them as Go escapes; WriteJSON as JSON \u escapes.

// printable returns s with every rune a terminal could act on (C0 and C1
// controls, DEL, format characters such as bidi overrides, invalid UTF-8)
// written as a Go escape, the way strconv.Quote writes it: "\x1b]0;x\a"
// becomes `\x1b]0;x\a`. Other text is unchanged, quotes and backslashes
// included.
func printable(s string) string {
	if isPrintable(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unicode.IsPrint(r):
			b.WriteString(s[i : i+size])
		default:
			q := strconv.QuoteRune(r) // '\x1b', '\u202e', '\n'
			b.WriteString(q[1 : len(q)-1])
		}
		i += size
	}
	return b.String()
}

func isPrintable(s string) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || !unicode.IsPrint(r) {
			return false
		}
		i += size
	}
	return true
}

// printableArgs applies printable to every string-like argument of a
// format call; numbers and times pass as they are.
func printableArgs(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case string:
			out[i] = printable(v)
		case error:
			out[i] = printable(v.Error())
		case fmt.Stringer:
			out[i] = printable(v.String())
		default:
			out[i] = a
		}
	}
	return out
}

// WriteJSON writes d as indented JSON (`vpcroute status -o json`).
// encoding/json escapes C0 controls but passes DEL, C1 controls (U+009B
// starts a terminal sequence too) and format characters through; they
// are written as \u escapes here, which every JSON reader decodes back.
func WriteJSON(w io.Writer, d Document) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return err
	}
	_, err := w.Write(escapeJSON(buf.Bytes()))
	return err
}

// escapeJSON rewrites every non-printable rune of encoded JSON, other than
// the newlines of its indentation, as a \u escape. Outside strings
// encoding/json writes only printable ASCII, spaces and newlines, so every
// such rune is inside a string, where the escape means the same rune.
func escapeJSON(b []byte) []byte {
	if bytes.IndexFunc(b, func(r rune) bool { return r != '\n' && !unicode.IsPrint(r) }) < 0 {
		return b
	}
	out := make([]byte, 0, len(b)+64)
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == '\n' || unicode.IsPrint(r) || r == utf8.RuneError && size == 1 {
			// encoding/json never writes invalid UTF-8; keep any byte as is.
			out = append(out, b[i:i+size]...)
		} else if r > 0xffff {
			r1, r2 := utf16.EncodeRune(r)
			out = fmt.Appendf(out, `\u%04x\u%04x`, r1, r2)
		} else {
			out = fmt.Appendf(out, `\u%04x`, r)
		}
		i += size
	}
	return out
}
