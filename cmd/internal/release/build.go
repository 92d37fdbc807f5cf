package main

import (
	"context"
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/vpcroute/vpcroute/internal/gobuild"
)

// releaseTags are the build tags of a release binary, the same as `make
// build` uses (gobuild.ReleaseTags says why).
var releaseTags = gobuild.ReleaseTags

// buildFlags are the go build options of a release binary for arch:
// static, stripped, without file system paths or a build id, stamped with
// the version, commit and commit time (cmd/vpcroute/version.go).
func buildFlags(o options, arch string) gobuild.Options {
	ldflags := strings.Join([]string{
		"-s", "-w", "-buildid=",
		"-X", "main.buildVersion=" + o.Version,
		"-X", "main.buildCommit=" + o.Commit,
		"-X", "main.buildDate=" + o.date(),
	}, " ")
	return gobuild.Options{
		Trimpath: true,
		Tags:     releaseTags,
		LDFlags:  ldflags,
		// Fixed here, not taken from the caller's environment, so that a
		// GOAMD64=v3 or GOFLAGS=-race in a shell cannot change the bytes.
		Env: []string{
			"GOOS=linux", "GOARCH=" + arch, "CGO_ENABLED=0",
			"GOAMD64=v1", "GOARM64=v8.0",
			"GOFLAGS=-buildvcs=false -mod=readonly",
		},
	}
}

// buildBinary builds vpcroute for arch into dir and returns its path after
// checking that it is a static, stripped Linux binary of that architecture
// within maxBinaryBytes.
func buildBinary(ctx context.Context, moduleDir, dir string, o options, arch string) (string, error) {
	if err := gobuild.Build(ctx, moduleDir, dir, buildFlags(o, arch), "./cmd/vpcroute"); err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "vpcroute")
	if err := checkBinary(bin, arch, maxBinaryBytes); err != nil {
		return "", err
	}
	return bin, nil
}

// elfMachines maps Go architectures to ELF machine types.
var elfMachines = map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}

// checkBinary refuses a binary that is not what a release ships.
func checkBinary(path, arch string, maxBytes int64) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if st.Size() > maxBytes {
		return fmt.Errorf("%s is %d bytes, more than %d: something keeps the linker from dropping unused methods again (go build -ldflags=-dumpdep names the reflect method lookup)", path, st.Size(), maxBytes)
	}
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer func() { _ = f.Close() }() // read-only
	if want := elfMachines[arch]; f.Machine != want {
		return fmt.Errorf("%s is built for %s, expected %s", path, f.Machine, want)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked (it names an interpreter): expected a static binary (CGO_ENABLED=0)", path)
		}
	}
	if f.Section(".symtab") != nil {
		return fmt.Errorf("%s has a symbol table: expected a stripped binary (-ldflags=-s)", path)
	}
	return nil
}
