package sim

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestListenSpecs(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "sim.sock")
	l, err := Listen("unix:" + sock)
	if err != nil {
		t.Fatal(err)
	}
	if got := ListenerAddr(l); got != "unix:"+sock {
		t.Errorf("ListenerAddr = %q", got)
	}
	l.Close()

	// A stale socket left by a killed run is replaced.
	stale, err := Listen("unix:" + sock)
	if err != nil {
		t.Fatal(err)
	}
	stale.(interface{ SetUnlinkOnClose(bool) }).SetUnlinkOnClose(false)
	stale.Close()
	l, err = Listen("unix:" + sock)
	if err != nil {
		t.Fatalf("over a stale socket: %v", err)
	}
	l.Close()

	tcp, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ListenerAddr(tcp), "127.0.0.1:") || strings.HasSuffix(ListenerAddr(tcp), ":0") {
		t.Errorf("tcp ListenerAddr = %q", ListenerAddr(tcp))
	}
	tcp.Close()

	regular := filepath.Join(dir, "file")
	if err := os.WriteFile(regular, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	for spec, want := range map[string]string{
		"unix:" + regular: "holds a stale socket",
		"unix:":           `listen="unix:"`,
		"localhost":       `listen="localhost": expected HOST:PORT`,
	} {
		if _, err := Listen(spec); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Listen(%q) = %v, want an error mentioning %q", spec, err, want)
		}
	}
	if data, err := os.ReadFile(regular); err != nil || string(data) != "keep me" {
		t.Errorf("a regular file at the socket path was touched: %q %v", data, err)
	}
}
