package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vpcroute/vpcroute/internal/gobuild"
)

// genmanTag links vpcroute's hidden gen-man command, which the shipped
// binary leaves out (cmd/vpcroute/genman.go).
const genmanTag = "genman"

// manPage is one generated man page: its file name (vpcroute-sync.8) and
// troff source.
type manPage struct {
	name string
	data []byte
}

// manPages builds vpcroute with gen-man for this machine (not the release's
// architecture: it runs here, also when building arm64 on amd64), runs it
// into work and returns the pages sorted by name. They are dated by
// o.Epoch through SOURCE_DATE_EPOCH and name o.Version, so two builds of
// one commit write the same bytes.
func manPages(ctx context.Context, moduleDir, work string, o options) ([]manPage, error) {
	toolDir := filepath.Join(work, "gen-man")
	opts := gobuild.Options{
		Trimpath: true,
		Tags:     append(slices.Clone(releaseTags), genmanTag),
		LDFlags:  "-X main.buildVersion=" + o.Version,
		// GOOS and GOARCH empty: the host's, whatever the caller exported.
		Env: []string{"GOOS=", "GOARCH=", "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false -mod=readonly"},
	}
	if err := gobuild.Build(ctx, moduleDir, toolDir, opts, "./cmd/vpcroute"); err != nil {
		return nil, fmt.Errorf("man pages: %w", err)
	}
	outDir := filepath.Join(work, "man8")
	cmd := exec.CommandContext(ctx, filepath.Join(toolDir, "vpcroute"), "gen-man", outDir)
	cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH="+strconv.FormatInt(o.Epoch.Unix(), 10))
	cmd.WaitDelay = 5 * time.Second
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("man pages: vpcroute gen-man %s: %w: %s", outDir, err, strings.TrimSpace(string(out)))
	}
	entries, err := os.ReadDir(outDir)
	if err != nil {
		return nil, fmt.Errorf("man pages: %w", err)
	}
	var pages []manPage
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.HasSuffix(e.Name(), ".8") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(outDir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("man pages: %w", err)
		}
		pages = append(pages, manPage{name: e.Name(), data: b})
	}
	if !slices.ContainsFunc(pages, func(p manPage) bool { return p.name == "vpcroute.8" }) {
		return nil, fmt.Errorf("man pages: vpcroute gen-man wrote no vpcroute.8 into %s (%d pages): expected one page per command", outDir, len(pages))
	}
	return pages, nil // os.ReadDir sorts by name
}

// gzipN compresses b as `gzip -9n` does, as Debian policy asks of man
// pages: best compression, no file name, no time stamp.
func gzipN(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
