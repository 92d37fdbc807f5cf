package main

import (
	"archive/zip"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/internal/testsupport"
)

const modulePath = "github.com/vpcroute/vpcroute"

// TestGoInstallReportsItsModuleVersion publishes this checkout as a
// pseudo-version on a file:// module proxy and runs `go install -tags
// grpcnotrace github.com/vpcroute/vpcroute/cmd/vpcroute@latest` from it, as a user
// would from the public proxy: the install must work (no replace
// directive in go.mod), and `vpcroute version` must report the module
// version, commit and time from the build information, with nothing
// stamped by -ldflags.
func TestGoInstallReportsItsModuleVersion(t *testing.T) {
	if testing.Short() {
		t.Skip("builds vpcroute from a module zip (-short)")
	}
	testsupport.RequireTool(t, "git")
	mod := moduleRoot(t)
	git := gitRepo{dir: mod}
	head, err := git.head(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	secs, err := git.headTime(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var unix int64
	if _, err := fmt.Sscan(secs, &unix); err != nil {
		t.Fatal(err)
	}
	when := time.Unix(unix, 0).UTC()
	version := "v0.0.0-" + when.Format("20060102150405") + "-" + head[:12]

	proxy := t.TempDir()
	vdir := filepath.Join(proxy, modulePath, "@v")
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		t.Fatal(err)
	}
	info, _ := json.Marshal(map[string]string{"Version": version, "Time": when.Format(time.RFC3339)})
	gomod, err := os.ReadFile(filepath.Join(mod, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string][]byte{
		filepath.Join(vdir, "list"):                 nil, // no tagged version: @latest asks the next file
		filepath.Join(proxy, modulePath, "@latest"): info,
		filepath.Join(vdir, version+".info"):        info,
		filepath.Join(vdir, version+".mod"):         gomod,
	} {
		if err := os.WriteFile(name, body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeModuleZip(t, mod, filepath.Join(vdir, version+".zip"), version)

	gomodcache := strings.TrimSpace(command(t, "go", "env", "GOMODCACHE"))
	t.Cleanup(func() { forgetModule(gomodcache, version) })
	bin := t.TempDir()
	// The README's command. CGO_ENABLED=0 and -trimpath let it reuse the
	// packages the release build compiled.
	cmd := exec.Command("go", "install", "-tags", strings.Join(releaseTags, ","), modulePath+"/cmd/vpcroute@latest")
	cmd.Env = append(os.Environ(),
		"GOBIN="+bin,
		// This module from the test's proxy; its dependencies from the
		// module cache or the usual proxy, checked against its go.sum.
		"GOPROXY=file://"+proxy+","+strings.TrimSpace(command(t, "go", "env", "GOPROXY")),
		"GONOSUMDB="+modulePath, "GOFLAGS=-trimpath", "CGO_ENABLED=0", "GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go install %s/cmd/vpcroute@latest: %v\n%s", modulePath, err, out)
	}

	out := command(t, filepath.Join(bin, "vpcroute"), "version", "-o", "json")
	var got map[string]string
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("version -o json: %v\n%s", err, out)
	}
	want := map[string]string{"version": version, "commit": head[:12], "date": when.Format(time.RFC3339)}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("go-installed vpcroute version: %s = %q, want %q", k, got[k], w)
		}
	}
}

// writeModuleZip packs the checkout's files (tracked and new, not ignored)
// as the go command's module zip for version.
func writeModuleZip(t *testing.T, mod, path, version string) {
	t.Helper()
	cmd := exec.Command("git", "ls-files", "-co", "--exclude-standard", "-z")
	cmd.Dir = mod
	list, err := cmd.Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for _, name := range strings.Split(strings.TrimRight(string(list), "\x00"), "\x00") {
		b, err := os.ReadFile(filepath.Join(mod, name))
		if os.IsNotExist(err) {
			continue // deleted in the work tree
		}
		if err != nil {
			t.Fatal(err)
		}
		w, err := zw.Create(modulePath + "@" + version + "/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// forgetModule removes the test's pseudo-version from the module cache, so
// that no later build takes it for the real one. This module is never a
// dependency, so its download cache holds nothing else.
func forgetModule(gomodcache, version string) {
	extracted := filepath.Join(gomodcache, modulePath+"@"+version)
	_ = filepath.Walk(extracted, func(p string, _ os.FileInfo, _ error) error {
		_ = os.Chmod(p, 0o755) // the module cache is read-only
		return nil
	})
	_ = os.RemoveAll(extracted)
	_ = os.RemoveAll(filepath.Join(gomodcache, "cache", "download", modulePath))
}
