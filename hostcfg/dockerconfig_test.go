package hostcfg

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDockerConfigWithBIP(t *testing.T) {
	tests := []struct {
		name, in, want string
		changed        bool
	}{
		{"empty file", "", "{\n  \"bip\": \"10.1.0.1/24\"\n}\n", true},
		{"whitespace only", " \n", "{\n  \"bip\": \"10.1.0.1/24\"\n}\n", true},
		{"empty object", "{}\n", "{\n  \"bip\": \"10.1.0.1/24\"\n}\n", true},
		{"keys kept in order, bip added last with their indentation",
			"{\n    \"log-driver\": \"journald\",\n    \"zeta\": {\"a\": [1, 2.50]},\n    \"alpha\": true\n}\n",
			"{\n    \"log-driver\": \"journald\",\n    \"zeta\": {\"a\": [1, 2.50]},\n    \"alpha\": true,\n    \"bip\": \"10.1.0.1/24\"\n}\n", true},
		{"compact file stays compact", `{"mtu":1450}`, `{"mtu":1450,"bip":"10.1.0.1/24"}`, true},
		{"bip replaced where it stands", "{\n  \"bip\": \"10.9.0.1/24\",\n  \"mtu\": 1450\n}\n", "{\n  \"bip\": \"10.1.0.1/24\",\n  \"mtu\": 1450\n}\n", true},
		{"same bip: unchanged", "{\"bip\" :  \"10.1.0.1/24\" }", "{\"bip\" :  \"10.1.0.1/24\" }", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseDockerConfig([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			got, changed := c.WithBIP("10.1.0.1/24")
			if string(got) != tt.want || changed != tt.changed {
				t.Fatalf("WithBIP = %q, %v; want %q, %v", got, changed, tt.want, tt.changed)
			}
			// The result parses, has the bip, and a second edit changes nothing.
			c2, err := ParseDockerConfig(got)
			if err != nil {
				t.Fatalf("result does not parse: %v", err)
			}
			if bip, ok, err := c2.BIP(); err != nil || !ok || bip.String() != "10.1.0.1/24" {
				t.Errorf("BIP of the result = %s %v %v", bip, ok, err)
			}
			if again, changed := c2.WithBIP("10.1.0.1/24"); changed || !bytes.Equal(again, got) {
				t.Errorf("second WithBIP changed the file: %q", again)
			}
		})
	}
}

func TestParseDockerConfigErrors(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"{\n  // docker does not take comments\n  \"mtu\": 1450\n}", "invalid JSON at byte"},
		{`{"mtu": 1450,}`, "invalid JSON at byte"},
		{`{"mtu": 1450`, "invalid JSON"},
		{`["bip"]`, `expected a JSON object, found "["`},
		{`{"bip": "a"} {}`, "after the object"},
		{`{"bip": "10.0.0.1/24", "bip": "10.1.0.1/24"}`, `key "bip" appears twice`},
	} {
		if _, err := ParseDockerConfig([]byte(tt.in)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseDockerConfig(%q) = %v, want %q", tt.in, err, tt.want)
		}
	}
	c, err := ParseDockerConfig([]byte(`{"bip": 24, "bridge": "br0"}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.BIP(); err == nil || !strings.Contains(err.Error(), `"bip" is 24: expected a string`) {
		t.Errorf("BIP of a number: %v", err)
	}
	if s, ok, err := c.String("bridge"); s != "br0" || !ok || err != nil {
		t.Errorf("String(bridge) = %q %v %v", s, ok, err)
	}
	c, _ = ParseDockerConfig([]byte(`{"bip": "10.0.0.300/24"}`))
	if _, _, err := c.BIP(); err == nil || !strings.Contains(err.Error(), `bip "10.0.0.300/24" is invalid`) {
		t.Errorf("BIP of a bad address: %v", err)
	}
}

func TestSaveDockerConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "docker", "daemon.json")

	// Missing file (and directory): an empty config, created 0644.
	f, err := LoadDockerConfig(path)
	if err != nil || f.Exists {
		t.Fatalf("Load of a missing file = %+v, %v", f, err)
	}
	data, _ := f.Config.WithBIP("10.1.0.1/24")
	if backup, err := SaveDockerConfig(f, data); err != nil || backup != "" {
		t.Fatalf("Save new = %q, %v", backup, err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o644 {
		t.Fatalf("new file: %v %v", st.Mode(), err)
	}

	// An existing file: mode kept, backup holds the previous bytes.
	prev := []byte("{\n  \"log-driver\": \"journald\"\n}\n")
	if err := os.WriteFile(path, prev, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	f, err = LoadDockerConfig(path)
	if err != nil || !f.Exists || f.Mode != 0o640 {
		t.Fatalf("Load = %+v, %v", f, err)
	}
	data, changed := f.Config.WithBIP("10.1.0.1/24")
	if !changed {
		t.Fatal("unchanged")
	}
	backup, err := SaveDockerConfig(f, data)
	if err != nil || backup != path+BackupSuffix {
		t.Fatalf("Save = %q, %v", backup, err)
	}
	if b, _ := os.ReadFile(backup); !bytes.Equal(b, prev) {
		t.Errorf("backup = %q, want the previous file", b)
	}
	st, _ := os.Stat(path)
	if b, _ := os.ReadFile(path); !bytes.Equal(b, data) || st.Mode().Perm() != 0o640 {
		t.Errorf("file = %q mode %v", b, st.Mode())
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 2 {
		t.Errorf("directory holds %d files, want daemon.json and its backup (no temporary left)", len(entries))
	}

	// Invalid JSON: an error naming the path.
	if err := os.WriteFile(path, []byte("{ bip: x }"), 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadDockerConfig(path); err == nil || !strings.HasPrefix(err.Error(), path+": invalid JSON at byte") {
		t.Errorf("Load of invalid JSON: %v", err)
	}
}
