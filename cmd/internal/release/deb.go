package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/deb"
	"github.com/goreleaser/nfpm/v2/files"
)

// Where the Debian package puts things.
const (
	debBinary = "/usr/bin/vpcroute"
	debUnit   = "/lib/systemd/system/vpcroute.service"
	// debAllocateUnit runs `vpcroute allocate` before Docker starts.
	debAllocateUnit = "/lib/systemd/system/vpcroute-allocate.service"
	debConfig       = "/etc/vpcroute/config.yaml"
	debDocDir       = "/usr/share/doc/vpcroute"
	// debManDir holds the man pages, gzipped (Debian policy 12.1).
	debManDir = "/usr/share/man/man8"
)

// debFile is one file of the Debian package.
type debFile struct {
	dst  string
	mode fs.FileMode
	data []byte
	// conffile: dpkg keeps the operator's edits on upgrade.
	conffile bool
}

// debContents lays out the package from the repository's files: the
// binary, the units (started from debBinary), the example config as a
// conffile readable by root only (it may hold the etcd password), and the
// docs, policies, dashboard and man pages.
func debContents(bin []byte, repo map[string][]byte, pages []manPage) ([]debFile, error) {
	unit, err := unitForBinary(repo["deploy/vpcroute.service"], debBinary)
	if err != nil {
		return nil, err
	}
	allocate, err := namedUnitForBinary("deploy/vpcroute-allocate.service", repo["deploy/vpcroute-allocate.service"], debBinary)
	if err != nil {
		return nil, err
	}
	out := []debFile{
		{dst: debBinary, mode: 0o755, data: bin},
		{dst: debUnit, mode: 0o644, data: unit},
		{dst: debAllocateUnit, mode: 0o644, data: allocate},
		{dst: debConfig, mode: 0o600, data: repo["deploy/config.example.yaml"], conffile: true},
		{dst: debDocDir + "/copyright", mode: 0o644, data: repo["LICENSE"]},
	}
	for _, doc := range []string{"README.md", "CHANGELOG.md", "deploy/aliyun-ram-policy.json", "deploy/aws-iam-policy.json", "deploy/grafana-dashboard.json"} {
		out = append(out, debFile{dst: debDocDir + "/" + filepath.Base(doc), mode: 0o644, data: repo[doc]})
	}
	for _, p := range pages {
		gz, err := gzipN(p.data)
		if err != nil {
			return nil, fmt.Errorf("deb: %s/%s.gz: %w", debManDir, p.name, err)
		}
		out = append(out, debFile{dst: debManDir + "/" + p.name + ".gz", mode: 0o644, data: gz})
	}
	for _, f := range out {
		if len(f.data) == 0 {
			return nil, fmt.Errorf("deb: %s would be empty: its source is missing from the repository", f.dst)
		}
	}
	return out, nil
}

// debPackage builds the .deb for arch with nfpm. nfpm reads every file
// from disk, so they are staged under stage first.
func debPackage(o options, arch, stage string, contents []debFile) ([]byte, error) {
	mtime := o.Epoch
	info := &nfpm.Info{
		Name:        "vpcroute",
		Arch:        arch,
		Platform:    "linux",
		Version:     o.Version,
		Section:     "net",
		Priority:    "optional",
		Maintainer:  o.Maintainer,
		Homepage:    "https://github.com/vpcroute/vpcroute",
		License:     "Apache-2.0",
		Description: "route Docker container subnets through the VPC route tables\nvpcroute makes containers on different Alibaba Cloud ECS or AWS EC2 hosts reach\neach other by their own IPs: it enables forwarding and the iptables rules on\neach host and keeps one \"subnet -> instance\" route per host in the VPC's\nroute tables. The service is installed but neither enabled nor started.",
		MTime:       mtime,
		Overridables: nfpm.Overridables{
			Depends: []string{"iptables"},
			Umask:   0o022,
		},
	}
	for i, f := range contents {
		src := filepath.Join(stage, fmt.Sprintf("%02d-%s", i, filepath.Base(f.dst)))
		if err := os.WriteFile(src, f.data, 0o600); err != nil {
			return nil, err
		}
		typ := ""
		if f.conffile {
			typ = files.TypeConfigNoReplace
		}
		info.Contents = append(info.Contents, &files.Content{
			Source: src, Destination: f.dst, Type: typ,
			FileInfo: &files.ContentFileInfo{Owner: "root", Group: "root", Mode: f.mode, MTime: mtime},
		})
	}
	for name, body := range map[string]string{"postinst": postinst, "prerm": prerm, "postrm": postrm} {
		p := filepath.Join(stage, name)
		if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
			return nil, err
		}
		switch name {
		case "postinst":
			info.Scripts.PostInstall = p
		case "prerm":
			info.Scripts.PreRemove = p
		case "postrm":
			info.Scripts.PostRemove = p
		}
	}
	var buf bytes.Buffer
	if err := deb.Default.Package(nfpm.WithDefaults(info), &buf); err != nil {
		return nil, fmt.Errorf("deb for %s: %w", arch, err)
	}
	return buf.Bytes(), nil
}
