package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMaintainerScripts runs each script as dpkg would, with a systemctl
// that records its arguments: nothing enables or starts vpcroute, an
// upgrade restarts it only if running, and without systemd nothing runs.
func TestMaintainerScripts(t *testing.T) {
	for _, s := range []string{postinst, prerm, postrm} {
		if strings.Count(s, systemdRunning) != 1 {
			t.Fatalf("script without exactly one systemd check:\n%s", s)
		}
	}
	run := func(t *testing.T, script string, systemd bool, args ...string) string {
		t.Helper()
		dir := t.TempDir()
		calls := filepath.Join(dir, "calls")
		bin := filepath.Join(dir, "bin")
		if err := os.Mkdir(bin, 0o755); err != nil {
			t.Fatal(err)
		}
		fake := "#!/bin/sh\necho \"$*\" >> " + calls + "\n"
		if err := os.WriteFile(filepath.Join(bin, "systemctl"), []byte(fake), 0o755); err != nil {
			t.Fatal(err)
		}
		// The check looks at a directory of the test's instead of /run.
		runDir := filepath.Join(dir, "run-systemd-system")
		if systemd {
			if err := os.Mkdir(runDir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		body := strings.Replace(script, "/run/systemd/system", runDir, 1)
		cmd := exec.Command("sh", append([]string{"-c", body, "script"}, args...)...)
		cmd.Env = []string{"PATH=" + bin + ":/usr/bin:/bin"}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		got, _ := os.ReadFile(calls) // absent: no call
		return strings.TrimSpace(string(got))
	}
	for _, c := range []struct {
		name    string
		script  string
		systemd bool
		args    []string
		want    string
	}{
		{"first install", postinst, true, []string{"configure", ""}, "--system daemon-reload"},
		{"upgrade", postinst, true, []string{"configure", "9.8.6"}, "--system daemon-reload\ntry-restart vpcroute.service"},
		{"install without systemd", postinst, false, []string{"configure", ""}, ""},
		{"upgrade without systemd", postinst, false, []string{"configure", "9.8.6"}, ""},
		{"remove", prerm, true, []string{"remove"}, "stop vpcroute.service"},
		{"prerm of an upgrade", prerm, true, []string{"upgrade", "9.8.8"}, ""},
		{"remove without systemd", prerm, false, []string{"remove"}, ""},
		{"postrm remove", postrm, true, []string{"remove"}, "--system daemon-reload"},
		{"purge", postrm, true, []string{"purge"}, "disable vpcroute.service\n--system daemon-reload"},
		{"purge without systemd", postrm, false, []string{"purge"}, "disable vpcroute.service"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := run(t, c.script, c.systemd, c.args...)
			if got != c.want {
				t.Errorf("systemctl calls:\n%s\nwant:\n%s", got, c.want)
			}
			for _, forbidden := range []string{"enable", "start vpcroute", "restart vpcroute"} {
				for _, line := range strings.Split(got, "\n") {
					if strings.HasPrefix(line, forbidden) {
						t.Errorf("called systemctl %s", line)
					}
				}
			}
		})
	}
}
