package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/vpcroute/vpcroute/internal/testsupport"
)

// cloudConfig is the part of a cloud-init user-data file the tests read.
type cloudConfig struct {
	WriteFiles []struct {
		Path        string `yaml:"path"`
		Permissions string `yaml:"permissions"`
		Content     string `yaml:"content"`
	} `yaml:"write_files"`
	Packages []string `yaml:"packages"`
	Runcmd   []string `yaml:"runcmd"`
}

const installScript = "/usr/local/sbin/install-vpcroute"

// readCloudInit parses examples/cloud-init/name and returns it with its
// install script.
func readCloudInit(t *testing.T, name string) (cloudConfig, string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(moduleRoot(t), "examples", "cloud-init", name))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "#cloud-config\n") {
		t.Errorf("%s does not start with #cloud-config", name)
	}
	var c cloudConfig
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	for _, f := range c.WriteFiles {
		if f.Path == installScript {
			return c, f.Content
		}
	}
	t.Fatalf("%s writes no %s", name, installScript)
	return c, ""
}

// releaseVar is the install script's one pinned variable.
var releaseVar = regexp.MustCompile(`(?m)^VPCROUTE_RELEASE=(\S+)$`)

// TestCloudInitExamplesAgree: both clouds install the same way, the first
// file written is the install script, it is pinned to one release, and
// runcmd runs it first and stops at the first failure.
func TestCloudInitExamplesAgree(t *testing.T) {
	aliyun, aliyunScript := readCloudInit(t, "aliyun-ecs-user-data.yaml")
	aws, awsScript := readCloudInit(t, "aws-ec2-user-data.yaml")
	if aliyunScript != awsScript {
		t.Error("the two examples install vpcroute differently")
	}
	if strings.Join(aliyun.Runcmd, "\n") != strings.Join(aws.Runcmd, "\n") || strings.Join(aliyun.Packages, " ") != strings.Join(aws.Packages, " ") {
		t.Error("the two examples differ in runcmd or packages")
	}
	for name, c := range map[string]cloudConfig{"aliyun": aliyun, "aws": aws} {
		if c.WriteFiles[0].Path != installScript || c.WriteFiles[0].Permissions != "0755" {
			t.Errorf("%s: the first file written is %s %s, want the install script, 0755", name, c.WriteFiles[0].Path, c.WriteFiles[0].Permissions)
		}
		if len(c.Runcmd) != 1 || !strings.HasPrefix(c.Runcmd[0], "set -e\n"+installScript+"\n") {
			t.Errorf("%s: runcmd is not one set -e item starting with the install script: %q", name, c.Runcmd)
		}
	}
	m := releaseVar.FindAllStringSubmatch(aliyunScript, -1)
	if len(m) != 1 || !regexp.MustCompile(`^https://\S+/v\d+\.\d+\.\d+$`).MatchString(m[0][1]) {
		t.Errorf("the install script pins no single https release ending in /v<x.y.z>: %q", m)
	}
	if strings.Contains(aliyunScript, "latest") {
		t.Error("the install script names a latest release")
	}
}

// TestCloudInitSameForEveryHost: the examples hold no per-host value (no
// bip, no daemon.json written by hand); the install script installs
// vpcroute-allocate.service, and runcmd enables and starts it before
// anything installs or starts Docker, so Docker's first start already
// reads the allocated bip.
func TestCloudInitSameForEveryHost(t *testing.T) {
	for _, name := range []string{"aliyun-ecs-user-data.yaml", "aws-ec2-user-data.yaml"} {
		c, script := readCloudInit(t, name)
		for _, f := range c.WriteFiles {
			if f.Path == "/etc/docker/daemon.json" || strings.Contains(f.Content, "bip") {
				t.Errorf("%s: %s sets a bip: a per-host value; vpcroute allocate chooses it", name, f.Path)
			}
		}
		if slices.Contains(c.Packages, "docker.io") {
			t.Errorf("%s: packages install Docker, which starts before runcmd enables vpcroute-allocate.service", name)
		}
		if !strings.Contains(script, "/deploy/vpcroute-allocate.service\" /etc/systemd/system/vpcroute-allocate.service\n") {
			t.Errorf("%s: the install script does not install vpcroute-allocate.service", name)
		}
		lines := strings.Split(strings.Join(c.Runcmd, "\n"), "\n")
		allocate, docker := -1, -1
		for i, l := range lines {
			if allocate < 0 && l == "systemctl enable --now vpcroute-allocate.service" {
				allocate = i
			}
			if docker < 0 && strings.Contains(l, "docker") {
				docker = i
			}
		}
		if allocate < 0 || docker < 0 || allocate > docker {
			t.Errorf("%s: runcmd enables and starts vpcroute-allocate.service at line %d, first touches Docker at line %d: want the allocation first\n%s",
				name, allocate, docker, strings.Join(lines, "\n"))
		}
	}
}

// TestCloudInitInstallsOnlyAVerifiedRelease runs the examples' install
// script against the release the tests built, served on loopback, in a
// mount namespace whose /usr/local/bin and /etc/systemd/system are test
// directories: a good release is installed; a tarball changed by one byte,
// or a SHA256SUMS that does not list it, leaves nothing installed.
func TestCloudInitInstallsOnlyAVerifiedRelease(t *testing.T) {
	dist, o := builtRelease(t)
	testsupport.RequireRoot(t, "bind mounts over /usr/local/bin and /etc/systemd/system in a private mount namespace")
	for _, tool := range []string{"unshare", "curl", "sha256sum"} {
		testsupport.RequireTool(t, tool)
	}
	_, script := readCloudInit(t, "aws-ec2-user-data.yaml")
	tarName, _ := artifactNames(testVersion, runtime.GOARCH)
	good, err := os.ReadFile(filepath.Join(dist, tarName))
	if err != nil {
		t.Fatal(err)
	}
	sums, err := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}

	install := func(t *testing.T, files map[string][]byte) (string, string, error) {
		t.Helper()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, ok := files[strings.TrimPrefix(r.URL.Path, "/releases/v"+testVersion+"/")]
			if !ok {
				http.NotFound(w, r)
				return
			}
			_, _ = w.Write(b)
		}))
		defer srv.Close()
		body := releaseVar.ReplaceAllString(script, "VPCROUTE_RELEASE="+srv.URL+"/releases/v"+testVersion)
		dir := t.TempDir()
		bin, units := filepath.Join(dir, "bin"), filepath.Join(dir, "units")
		for _, d := range []string{bin, units} {
			if err := os.Mkdir(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		scriptPath := filepath.Join(dir, "install-vpcroute")
		if err := os.WriteFile(scriptPath, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
		wrapper := `set -e
mount --bind "$1" /usr/local/bin
mount --bind "$2" /etc/systemd/system
exec "$3"`
		cmd := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c", wrapper, "sh", bin, units, scriptPath)
		out, err := cmd.CombinedOutput()
		return bin, units, errWithOutput(err, out)
	}

	t.Run("verified", func(t *testing.T) {
		bin, units, err := install(t, map[string][]byte{tarName: good, "SHA256SUMS": sums})
		if err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(filepath.Join(bin, "vpcroute"), "version").CombinedOutput()
		if err != nil || !strings.HasPrefix(string(out), "vpcroute "+testVersion+"\ncommit:   "+o.Commit+"\n") {
			t.Errorf("installed vpcroute version: %v\n%s", err, out)
		}
		unit, err := os.ReadFile(filepath.Join(units, "vpcroute.service"))
		if err != nil || !strings.Contains(string(unit), "\nExecStart=/usr/local/bin/vpcroute daemon ") {
			t.Errorf("installed unit: %v\n%s", err, unit)
		}
		unit, err = os.ReadFile(filepath.Join(units, "vpcroute-allocate.service"))
		if err != nil || !strings.Contains(string(unit), "\nExecStart=/usr/local/bin/vpcroute allocate ") || !strings.Contains(string(unit), "\nBefore=docker.service\n") {
			t.Errorf("installed allocate unit: %v\n%s", err, unit)
		}
	})

	tampered := append([]byte(nil), good...)
	tampered[len(tampered)/2] ^= 0xff
	for name, files := range map[string]map[string][]byte{
		"tarball changed by one byte":  {tarName: tampered, "SHA256SUMS": sums},
		"sums not listing the tarball": {tarName: good, "SHA256SUMS": []byte(strings.ReplaceAll(string(sums), tarName, "vpcroute_0.0.1_linux_"+runtime.GOARCH+".tar.gz"))},
		"no SHA256SUMS":                {tarName: good},
	} {
		t.Run(name, func(t *testing.T) {
			bin, units, err := install(t, files)
			if err == nil {
				t.Fatal("install-vpcroute succeeded")
			}
			for _, d := range []string{bin, units} {
				if entries, _ := os.ReadDir(d); len(entries) > 0 {
					t.Errorf("%s holds %v after a failed check", d, entries)
				}
			}
			t.Logf("refused: %v", err)
		})
	}
}

func errWithOutput(err error, out []byte) error {
	if err == nil {
		return nil
	}
	return &outputError{err: err, out: strings.TrimSpace(string(out))}
}

type outputError struct {
	err error
	out string
}

func (e *outputError) Error() string { return e.err.Error() + ": " + e.out }
