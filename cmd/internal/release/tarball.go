package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"
)

// file is one file of an artifact.
type file struct {
	// name is the path inside the archive, slash-separated, relative.
	name string
	mode fs.FileMode
	data []byte
}

// tarGz packs files under the directory prefix into a gzip-compressed tar
// that depends on nothing but its input: entries sorted by name, every
// mtime set to mtime, owner root, no gzip name or time.
func tarGz(prefix string, files []file, mtime time.Time) ([]byte, error) {
	byName := map[string]file{}
	dirs := map[string]bool{prefix + "/": true}
	for _, f := range files {
		name := path.Join(prefix, f.name)
		if !strings.HasPrefix(name, prefix+"/") || f.name == "" {
			return nil, fmt.Errorf("tarball entry %q leaves %s/", f.name, prefix)
		}
		if _, dup := byName[name]; dup {
			return nil, fmt.Errorf("tarball entry %q twice", f.name)
		}
		byName[name] = f
		for d := path.Dir(name); d != prefix && d != "."; d = path.Dir(d) {
			dirs[d+"/"] = true
		}
	}
	names := make([]string, 0, len(byName)+len(dirs))
	for n := range byName {
		names = append(names, n)
	}
	for d := range dirs {
		names = append(names, d)
	}
	slices.Sort(names)

	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(zw)
	for _, n := range names {
		h := &tar.Header{Name: n, ModTime: mtime, Uname: "root", Gname: "root", Format: tar.FormatPAX}
		f, isFile := byName[n]
		if isFile {
			h.Typeflag, h.Mode, h.Size = tar.TypeReg, int64(f.mode.Perm()), int64(len(f.data))
		} else {
			h.Typeflag, h.Mode = tar.TypeDir, 0o755
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("tarball entry %s: %w", n, err)
		}
		if isFile {
			if _, err := tw.Write(f.data); err != nil {
				return nil, fmt.Errorf("tarball entry %s: %w", n, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
