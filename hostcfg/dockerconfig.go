package hostcfg

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"strconv"
)

// DockerConfig is a parsed /etc/docker/daemon.json: plain JSON (dockerd
// accepts no comments), one object. It remembers where each top-level
// value lies in the file, so that an edit changes the bytes of one value
// and keeps everything else — other keys, their order, the formatting — as
// the file had it.
type DockerConfig struct {
	raw  []byte
	keys []configKey
	// open is the offset of the object's '{'.
	open int
}

// configKey is one top-level key and where its value lies in raw.
type configKey struct {
	name       string
	start, end int
	value      json.RawMessage
}

// ParseDockerConfig parses daemon.json. An empty file (or only
// whitespace) is an empty object, as dockerd reads it. Anything but one
// JSON object, or a key given twice, is an error naming the byte offset.
func ParseDockerConfig(b []byte) (DockerConfig, error) {
	c := DockerConfig{raw: b, open: -1}
	if len(bytes.TrimSpace(b)) == 0 {
		return c, nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return c, fmt.Errorf("invalid JSON at byte %d: %w", dec.InputOffset(), err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return c, fmt.Errorf("expected a JSON object, found %s", describeToken(tok))
	}
	c.open = int(dec.InputOffset()) - 1
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return c, fmt.Errorf("invalid JSON at byte %d: %w", dec.InputOffset(), err)
		}
		name, _ := tok.(string) // object keys are strings
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return c, fmt.Errorf("invalid JSON at byte %d (value of %q): %w", dec.InputOffset(), name, err)
		}
		if seen[name] {
			return c, fmt.Errorf("key %q appears twice: expected each key once", name)
		}
		seen[name] = true
		end := int(dec.InputOffset())
		c.keys = append(c.keys, configKey{name: name, start: end - len(v), end: end, value: v})
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return c, fmt.Errorf("invalid JSON at byte %d: %w", dec.InputOffset(), err)
	}
	if tok, err := dec.Token(); err != io.EOF {
		if err != nil {
			return c, fmt.Errorf("invalid JSON at byte %d: %w", dec.InputOffset(), err)
		}
		return c, fmt.Errorf("unexpected %s after the object at byte %d: expected one JSON object", describeToken(tok), dec.InputOffset())
	}
	return c, nil
}

func describeToken(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		return fmt.Sprintf("%q", v.String())
	case string:
		return "a string"
	case nil:
		return "null"
	default:
		return fmt.Sprintf("%v", v)
	}
}

// Keys returns the top-level keys in file order.
func (c DockerConfig) Keys() []string {
	out := make([]string, len(c.keys))
	for i, k := range c.keys {
		out[i] = k.name
	}
	return out
}

// String returns a top-level string value; false when the key is absent.
// A value of another type is an error.
func (c DockerConfig) String(key string) (string, bool, error) {
	for _, k := range c.keys {
		if k.name != key {
			continue
		}
		var s string
		if err := json.Unmarshal(k.value, &s); err != nil {
			return "", true, fmt.Errorf("%q is %s: expected a string", key, k.value)
		}
		return s, true, nil
	}
	return "", false, nil
}

// BIP returns the bip of daemon.json as written (the bridge's address and
// the subnet's length, e.g. 10.1.0.1/24); false when there is none.
func (c DockerConfig) BIP() (netip.Prefix, bool, error) {
	s, ok, err := c.String("bip")
	if err != nil || !ok {
		return netip.Prefix{}, ok, err
	}
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is4() {
		return netip.Prefix{}, true, fmt.Errorf("bip %q is invalid: expected an IPv4 address and length such as 10.1.0.1/24", s)
	}
	return p, true, nil
}

// WithBIP returns the file with bip set to value, and whether that
// changed it. An existing bip is replaced where it stands; a new one is
// added after the last key, indented as that key is. Nothing else in the
// file changes.
func (c DockerConfig) WithBIP(value string) ([]byte, bool) {
	quoted := strconv.Quote(value) // a bip holds only ASCII digits, dots and a slash
	for _, k := range c.keys {
		if k.name == "bip" {
			if bytes.Equal(k.value, []byte(quoted)) {
				return c.raw, false
			}
			return splice(c.raw, k.start, k.end, quoted), true
		}
	}
	if len(c.keys) == 0 {
		if c.open < 0 {
			return []byte("{\n  \"bip\": " + quoted + "\n}\n"), true
		}
		// "{ }" with whatever surrounds it: add the key inside.
		return splice(c.raw, c.open+1, c.open+1, "\n  \"bip\": "+quoted+"\n"), true
	}
	last := c.keys[len(c.keys)-1]
	sep := `,"bip":` // a compact file stays compact
	if nl := bytes.LastIndexByte(c.raw[c.open:last.start], '\n'); nl >= 0 {
		line := c.raw[c.open+nl+1 : last.start]
		indent := line[:len(line)-len(bytes.TrimLeft(line, " \t"))]
		sep = ",\n" + string(indent) + `"bip": `
	}
	return splice(c.raw, last.end, last.end, sep+quoted), true
}

// splice replaces b[start:end] with s in a copy of b.
func splice(b []byte, start, end int, s string) []byte {
	out := make([]byte, 0, len(b)-(end-start)+len(s))
	out = append(out, b[:start]...)
	out = append(out, s...)
	return append(out, b[end:]...)
}
