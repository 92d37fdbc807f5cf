package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"debug/buildinfo"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/internal/gobuild"
	"github.com/vpcroute/vpcroute/internal/testsupport"
)

// testVersion is the version the tests release.
const testVersion = "9.8.7"

// The release the tests share: building one links the whole binary, so
// it is built once, for this machine's architecture, by the release
// command itself (built without -race: under the detector, compressing
// the artifacts alone takes a minute).
var shared struct {
	once sync.Once
	dir  string // holds the release command and dist/
	opts options
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.dir != "" {
		_ = os.RemoveAll(shared.dir) // scratch
	}
	os.Exit(code)
}

// moduleRoot is the checkout under test.
func moduleRoot(t *testing.T) string {
	t.Helper()
	mod, err := findModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return mod
}

func findModuleRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	return gobuild.ModuleDir(context.Background(), wd)
}

// releaseOptions are the options `make release VERSION=9.8.7` gets for this
// checkout, for the host's architecture, into out.
func releaseOptions(out string) (options, error) {
	mod, err := findModuleRoot()
	if err != nil {
		return options{}, err
	}
	git := gitRepo{dir: mod}
	ctx := context.Background()
	raw := rawOptions{version: testVersion, outDir: out, arches: runtime.GOARCH, maintainer: "vpcroute developers", allowDirty: true}
	return raw.validate(func() (string, error) { return git.head(ctx) }, func() (string, error) { return git.headTime(ctx) })
}

// runRelease runs the release command as make release would, into out,
// and returns the options it was given.
func runRelease(out string) (options, error) {
	o, err := releaseOptions(out)
	if err != nil {
		return o, err
	}
	mod, err := findModuleRoot()
	if err != nil {
		return o, err
	}
	cmd := exec.Command(filepath.Join(shared.dir, "release"), "-version", testVersion, "-arch", runtime.GOARCH, "-allow-dirty", "-out", out)
	cmd.Dir = mod
	if b, err := cmd.CombinedOutput(); err != nil {
		return o, fmt.Errorf("release: %w\n%s", err, b)
	}
	return o, nil
}

// builtRelease builds the shared release once and returns its directory.
func builtRelease(t *testing.T) (string, options) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds a release binary (-short)")
	}
	if _, ok := elfMachines[runtime.GOARCH]; !ok {
		t.Skipf("releases are built for %v; this machine is %s", arches, runtime.GOARCH)
	}
	shared.once.Do(func() {
		shared.dir, shared.err = os.MkdirTemp("", "vpcroute-release-test-")
		if shared.err != nil {
			return
		}
		mod, err := findModuleRoot()
		if err != nil {
			shared.err = err
			return
		}
		if shared.err = gobuild.Build(context.Background(), mod, shared.dir, gobuild.Options{}, "./cmd/internal/release"); shared.err != nil {
			return
		}
		shared.opts, shared.err = runRelease(filepath.Join(shared.dir, "dist"))
	})
	if shared.err != nil {
		t.Fatalf("release build: %v", shared.err)
	}
	return filepath.Join(shared.dir, "dist"), shared.opts
}

func command(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestReleaseArtifactsAndChecksums(t *testing.T) {
	dist, _ := builtRelease(t)
	testsupport.RequireTool(t, "sha256sum")
	tarName, debName := artifactNames(testVersion, runtime.GOARCH)
	entries, err := os.ReadDir(dist)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"SHA256SUMS", debName, tarName}; strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("dist holds %q, want %q", names, want)
	}
	sums, err := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(sums), "\n"); n != 2 {
		t.Errorf("SHA256SUMS has %d lines, want 2:\n%s", n, sums)
	}
	cmd := exec.Command("sha256sum", "--strict", "-c", "SHA256SUMS")
	cmd.Dir = dist
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("sha256sum -c: %v\n%s", err, out)
	}
}

func TestDebInstallsIntoAThrowawayRoot(t *testing.T) {
	dist, o := builtRelease(t)
	testsupport.RequireTool(t, "dpkg-deb")
	_, debName := artifactNames(testVersion, runtime.GOARCH)
	deb := filepath.Join(dist, debName)

	info := command(t, "dpkg-deb", "-f", deb, "Package", "Version", "Architecture", "Depends", "Section")
	for _, want := range []string{"Package: vpcroute\n", "Version: " + testVersion + "\n", "Architecture: " + runtime.GOARCH + "\n", "Depends: iptables\n", "Section: net\n"} {
		if !strings.Contains(info, want) {
			t.Errorf("control fields lack %q:\n%s", want, info)
		}
	}
	if got := command(t, "dpkg-deb", "-I", deb, "conffiles"); got != debConfig+"\n" {
		t.Errorf("conffiles = %q, want %q", got, debConfig+"\n")
	}
	// The maintainer scripts are the reviewed ones, and nothing in them
	// enables or starts the service.
	for name, want := range map[string]string{"postinst": postinst, "prerm": prerm, "postrm": postrm} {
		if got := command(t, "dpkg-deb", "-I", deb, name); got != want {
			t.Errorf("%s in the package differs from scripts.go:\n%s", name, got)
		}
	}
	listing := command(t, "dpkg-deb", "-c", deb)
	for _, want := range []string{
		"-rwxr-xr-x root/root", "./usr/bin/vpcroute\n",
		"-rw-r--r-- root/root", "./lib/systemd/system/vpcroute.service\n", "./lib/systemd/system/vpcroute-allocate.service\n",
		"-rw------- root/root", "./etc/vpcroute/config.yaml\n",
		"./usr/share/doc/vpcroute/copyright\n", "./usr/share/doc/vpcroute/aws-iam-policy.json\n",
		"./usr/share/doc/vpcroute/aliyun-ram-policy.json\n", "./usr/share/doc/vpcroute/grafana-dashboard.json\n",
		"./usr/share/man/man8/vpcroute.8.gz\n", "./usr/share/man/man8/vpcroute-daemon.8.gz\n", "./usr/share/man/man8/vpcroute-sync.8.gz\n",
		o.Epoch.Format("2006-01-02 15:04"),
	} {
		if !strings.Contains(listing, want) {
			t.Errorf("dpkg-deb -c lacks %q:\n%s", want, listing)
		}
	}
	if strings.Contains(listing, "/usr/local") {
		t.Errorf("the package installs under /usr/local:\n%s", listing)
	}

	root := t.TempDir()
	command(t, "dpkg-deb", "-x", deb, root)
	out := command(t, filepath.Join(root, "usr/bin/vpcroute"), "version", "-o", "json")
	var v map[string]string
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("installed vpcroute version -o json: %v\n%s", err, out)
	}
	want := map[string]string{"version": testVersion, "commit": o.Commit, "date": o.Epoch.Format(time.RFC3339),
		"goVersion": runtime.Version(), "platform": "linux/" + runtime.GOARCH}
	for k, w := range want {
		if v[k] != w {
			t.Errorf("installed vpcroute version: %s = %q, want %q", k, v[k], w)
		}
	}

	checkDebManPages(t, root, o)

	mod := moduleRoot(t)
	example, err := os.ReadFile(filepath.Join(mod, "deploy/config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(root, debConfig)); !bytes.Equal(got, example) {
		t.Errorf("%s is not deploy/config.example.yaml", debConfig)
	}
	unit, err := os.ReadFile(filepath.Join(root, debUnit))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(unit), "\nExecStart="+debBinary+" daemon ") {
		t.Errorf("the packaged unit does not start %s:\n%s", debBinary, unit)
	}
	verifyUnit(t, unit, filepath.Join(root, "usr/bin/vpcroute"))
	allocate, err := os.ReadFile(filepath.Join(root, debAllocateUnit))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(allocate), "\nExecStart="+debBinary+" allocate ") {
		t.Errorf("the packaged allocate unit does not start %s:\n%s", debBinary, allocate)
	}
}

func TestTarballLayout(t *testing.T) {
	dist, o := builtRelease(t)
	tarName, _ := artifactNames(testVersion, runtime.GOARCH)
	dir := t.TempDir()
	command(t, "tar", "-xzf", filepath.Join(dist, tarName), "-C", dir)
	top := filepath.Join(dir, strings.TrimSuffix(tarName, ".tar.gz"))
	for _, f := range []string{"vpcroute", "LICENSE", "README.md", "CHANGELOG.md", "deploy/vpcroute.service", "deploy/config.example.yaml",
		"deploy/aws-iam-policy.json", "deploy/aliyun-ram-policy.json", "deploy/grafana-dashboard.json"} {
		st, err := os.Stat(filepath.Join(top, f))
		if err != nil {
			t.Errorf("tarball lacks %s: %v", f, err)
			continue
		}
		if !st.ModTime().Equal(o.Epoch) {
			t.Errorf("%s mtime %s, want the commit time %s", f, st.ModTime().UTC(), o.Epoch)
		}
	}
	for _, page := range []string{"vpcroute.8", "vpcroute-sync.8", "vpcroute-daemon.8", "vpcroute-allocate.8"} {
		b, err := os.ReadFile(filepath.Join(top, "man", page))
		if err != nil {
			t.Errorf("tarball lacks man/%s: %v", page, err)
			continue
		}
		checkManPage(t, "man/"+page, b, o)
	}
	bin := filepath.Join(top, "vpcroute")
	if err := checkBinary(bin, runtime.GOARCH, maxBinaryBytes); err != nil {
		t.Error(err)
	}
	// gen-man is not in the shipped binary: its libraries would cost every
	// agent 0.7 MiB resident.
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range info.Deps {
		if strings.Contains(d.Path, "go-md2man") || strings.Contains(d.Path, "blackfriday") {
			t.Errorf("the release binary links %s (gen-man): expected it built without -tags %s", d.Path, genmanTag)
		}
	}
	if _, err := os.Stat(filepath.Join(top, "man", "vpcroute-gen-man.8")); err == nil {
		t.Error("the tarball has a man page for the hidden gen-man")
	}
	if out := command(t, bin, "version"); !strings.HasPrefix(out, "vpcroute "+testVersion+"\ncommit:   "+o.Commit+"\n") {
		t.Errorf("tarball's vpcroute version:\n%s", out)
	}
}

// checkManPage: a section 8 page of the release's version, dated by the
// commit (SOURCE_DATE_EPOCH), not by the day of the build.
func checkManPage(t *testing.T, name string, b []byte, o options) {
	t.Helper()
	title := strings.ToUpper(strings.TrimSuffix(strings.TrimSuffix(filepath.Base(name), ".gz"), ".8"))
	want := fmt.Sprintf(".TH %q \"8\" %q \"vpcroute %s\" \"vpcroute manual\"\n", title, o.Epoch.Format("Jan 2006"), testVersion)
	if !bytes.HasPrefix(b, []byte(".nh\n"+want)) {
		t.Errorf("%s: want the header %q:\n%.200s", name, want, b)
	}
}

// checkDebManPages: the package's man pages are gzipped as gzip -9n
// does, without a file name or time stamp (Debian policy).
func checkDebManPages(t *testing.T, root string, o options) {
	t.Helper()
	for _, page := range []string{"vpcroute.8", "vpcroute-daemon.8", "vpcroute-sync.8"} {
		p := filepath.Join(root, debManDir, page+".gz")
		f, err := os.Open(p)
		if err != nil {
			t.Error(err)
			continue
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			_ = f.Close()
			t.Errorf("%s: %v", p, err)
			continue
		}
		b, err := io.ReadAll(zr)
		_ = f.Close() // read-only
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if zr.Name != "" || !zr.ModTime.IsZero() {
			t.Errorf("%s: gzip header names %q, time %v; want neither (gzip -n)", p, zr.Name, zr.ModTime)
		}
		checkManPage(t, debManDir+"/"+page+".gz", b, o)
	}
}

// TestReleaseIsReproducible builds the release a second time: every
// artifact must have the same checksum.
func TestReleaseIsReproducible(t *testing.T) {
	dist, _ := builtRelease(t)
	second := filepath.Join(t.TempDir(), "dist")
	if _, err := runRelease(second); err != nil {
		t.Fatal(err)
	}
	a, err := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(second, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Errorf("two builds of one commit differ:\nfirst:\n%s\nsecond:\n%s", a, b)
	}
	t.Logf("two builds, same SHA256SUMS:\n%s", a)
}

// TestReleaseRefusesBadInput runs the command with input make release
// could pass it: one line naming the value, nothing written.
func TestReleaseRefusesBadInput(t *testing.T) {
	builtRelease(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-version", "212ad5e-dirty"}, `release: version "212ad5e-dirty" is invalid: expected x.y.z`},
		{[]string{"-version", "1.0.0", "-arch", "386"}, `release: arch "386" is invalid: expected one of amd64, arm64`},
	} {
		out := filepath.Join(t.TempDir(), "dist")
		cmd := exec.Command(filepath.Join(shared.dir, "release"), append(c.args, "-out", out)...)
		cmd.Dir = moduleRoot(t)
		b, err := cmd.CombinedOutput()
		if err == nil || !strings.HasPrefix(string(b), c.want) || strings.Count(string(b), "\n") != 1 {
			t.Errorf("release %q: %v, output %q; want one line starting %q", c.args, err, b, c.want)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("release %q created %s", c.args, out)
		}
	}
}

func TestSummarize(t *testing.T) {
	if got := summarize(" M Makefile\n?? new.go"); got != "M Makefile; ?? new.go" {
		t.Errorf("summarize = %q", got)
	}
	if got := summarize("a\nb\nc\nd\ne\nf\ng"); got != "a; b; c; d; e; and 2 more" {
		t.Errorf("summarize = %q", got)
	}
}
