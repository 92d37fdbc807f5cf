package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
)

// repoFiles are the repository files an artifact ships, by path; every
// file of deploy/ is added to them.
var repoFiles = []string{"LICENSE", "README.md", "CHANGELOG.md"}

// readRepo reads repoFiles and deploy/ from the module at dir.
func readRepo(dir string) (map[string][]byte, error) {
	names := slices.Clone(repoFiles)
	entries, err := os.ReadDir(filepath.Join(dir, "deploy"))
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if e.Type().IsRegular() {
			names = append(names, "deploy/"+e.Name())
		}
	}
	repo := map[string][]byte{}
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(n)))
		if err != nil {
			return nil, err
		}
		repo[n] = b
	}
	return repo, nil
}

// artifactNames are the file names of arch's tarball and package.
func artifactNames(version, arch string) (tarball, debFile string) {
	return fmt.Sprintf("vpcroute_%s_linux_%s.tar.gz", version, arch), fmt.Sprintf("vpcroute_%s_%s.deb", version, arch)
}

// run builds every artifact of o into o.OutDir and writes SHA256SUMS.
func run(ctx context.Context, moduleDir string, o options, stdout io.Writer) error {
	repo, err := readRepo(moduleDir)
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "vpcroute-release-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(work) }() // scratch only

	// The pages are the same for every architecture: generated once.
	pages, err := manPages(ctx, moduleDir, work, o)
	if err != nil {
		return err
	}

	artifacts := map[string][]byte{}
	for _, arch := range o.Arches {
		dir := filepath.Join(work, arch)
		if err := os.MkdirAll(filepath.Join(dir, "stage"), 0o755); err != nil {
			return err
		}
		binPath, err := buildBinary(ctx, moduleDir, dir, o, arch)
		if err != nil {
			return err
		}
		bin, err := os.ReadFile(binPath)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "vpcroute %s linux/%s: %d bytes (static, stripped)\n", o.Version, arch, len(bin))

		tarName, debName := artifactNames(o.Version, arch)
		tarFiles := []file{{name: "vpcroute", mode: 0o755, data: bin}}
		for n, b := range repo {
			tarFiles = append(tarFiles, file{name: n, mode: 0o644, data: b})
		}
		for _, p := range pages {
			tarFiles = append(tarFiles, file{name: "man/" + p.name, mode: 0o644, data: p.data})
		}
		prefix := tarName[:len(tarName)-len(".tar.gz")]
		if artifacts[tarName], err = tarGz(prefix, tarFiles, o.Epoch); err != nil {
			return err
		}
		contents, err := debContents(bin, repo, pages)
		if err != nil {
			return err
		}
		if artifacts[debName], err = debPackage(o, arch, filepath.Join(dir, "stage"), contents); err != nil {
			return err
		}
	}

	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return err
	}
	sums := sha256Sums(artifacts)
	artifacts["SHA256SUMS"] = sums
	names := make([]string, 0, len(artifacts))
	for n := range artifacts {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		p := filepath.Join(o.OutDir, n)
		if err := os.WriteFile(p, artifacts[n], 0o644); err != nil {
			return err
		}
		// Reproducible down to the file system, for rsync and caches too.
		if err := os.Chtimes(p, o.Epoch, o.Epoch); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s  %d bytes\n", path.Join(filepath.Base(o.OutDir), n), len(artifacts[n]))
	}
	return nil
}
