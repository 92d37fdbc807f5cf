package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"strings"
	"testing"
	"time"
)

func TestTarGzIsDeterministic(t *testing.T) {
	mtime := time.Unix(1796568060, 0).UTC()
	files := []file{
		{name: "vpcroute", mode: 0o755, data: []byte("binary")},
		{name: "deploy/vpcroute.service", mode: 0o644, data: []byte("[Unit]\n")},
		{name: "LICENSE", mode: 0o644, data: []byte("Apache")},
	}
	a, err := tarGz("vpcroute_1.4.0_linux_amd64", files, mtime)
	if err != nil {
		t.Fatal(err)
	}
	// The same files in another order make the same bytes.
	b, err := tarGz("vpcroute_1.4.0_linux_amd64", []file{files[2], files[0], files[1]}, mtime)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("the order of the input changed the tarball")
	}

	zr, err := gzip.NewReader(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	if zr.Name != "" || !zr.ModTime.IsZero() {
		t.Errorf("gzip header carries name %q, time %s", zr.Name, zr.ModTime)
	}
	tr := tar.NewReader(zr)
	var got []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, h.Name)
		if !h.ModTime.Equal(mtime) || h.Uid != 0 || h.Gid != 0 || h.Uname != "root" {
			t.Errorf("%s: mtime %s, owner %d/%d %s", h.Name, h.ModTime, h.Uid, h.Gid, h.Uname)
		}
		if h.Name == "vpcroute_1.4.0_linux_amd64/vpcroute" && h.Mode != 0o755 {
			t.Errorf("binary mode %o", h.Mode)
		}
	}
	want := "vpcroute_1.4.0_linux_amd64/ vpcroute_1.4.0_linux_amd64/LICENSE vpcroute_1.4.0_linux_amd64/deploy/ vpcroute_1.4.0_linux_amd64/deploy/vpcroute.service vpcroute_1.4.0_linux_amd64/vpcroute"
	if strings.Join(got, " ") != want {
		t.Errorf("entries:\n%s\nwant\n%s", strings.Join(got, " "), want)
	}

	for _, bad := range []string{"../etc/passwd", "", "a/../../x"} {
		if _, err := tarGz("p", []file{{name: bad, mode: 0o644}}, mtime); err == nil {
			t.Errorf("entry %q accepted", bad)
		}
	}
	if _, err := tarGz("p", []file{{name: "a"}, {name: "./a"}}, mtime); err == nil {
		t.Error("a duplicate entry accepted")
	}
}

func TestSHA256Sums(t *testing.T) {
	got := string(sha256Sums(map[string][]byte{"b.deb": []byte("b"), "a.tar.gz": []byte("")}))
	want := "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  a.tar.gz\n" +
		"3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d  b.deb\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
