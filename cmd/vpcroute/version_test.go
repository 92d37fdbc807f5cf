package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestResolveBuild(t *testing.T) {
	vcs := func(rev, when string, extra ...debug.BuildSetting) []debug.BuildSetting {
		return append([]debug.BuildSetting{{Key: "vcs.revision", Value: rev}, {Key: "vcs.time", Value: when}}, extra...)
	}
	cases := []struct {
		name                   string
		stampV, stampC, stampD string
		bi                     *debug.BuildInfo
		want                   buildInfo
	}{
		{
			name:   "release stamp wins over build info",
			stampV: "1.4.0", stampC: "0123456789abcdef0123456789abcdef01234567", stampD: "2026-12-06T14:41:00Z",
			bi:   &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: vcs("ffff", "2000-01-01T00:00:00Z")},
			want: buildInfo{Version: "1.4.0", Commit: "0123456789abcdef0123456789abcdef01234567", Date: "2026-12-06T14:41:00Z", GoVersion: "go1.26.8"},
		},
		{
			name: "go install of a tagged release: module version, nothing else known",
			bi:   &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.4.0"}},
			want: buildInfo{Version: "v1.4.0", Commit: unknown, Date: unknown, GoVersion: "go1.26.8"},
		},
		{
			name: "go install of a commit: the pseudo-version carries revision and time",
			bi:   &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261206144100-212ad5e0c0de"}},
			want: buildInfo{Version: "v0.0.0-20261206144100-212ad5e0c0de", Commit: "212ad5e0c0de", Date: "2026-12-06T14:41:00Z", GoVersion: "go1.26.8"},
		},
		{
			name: "pseudo-version after a tag",
			bi:   &debug.BuildInfo{Main: debug.Module{Version: "v1.4.1-0.20261206144100-212ad5e0c0de"}},
			want: buildInfo{Version: "v1.4.1-0.20261206144100-212ad5e0c0de", Commit: "212ad5e0c0de", Date: "2026-12-06T14:41:00Z", GoVersion: runtime.Version()},
		},
		{
			name: "go build in a modified checkout: vcs settings are more precise than the version",
			bi: &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261206144100-212ad5e0c0de+dirty"},
				Settings: vcs("212ad5e0c0de1111222233334444555566667777", "2026-12-06T14:41:00Z", debug.BuildSetting{Key: "vcs.modified", Value: "true"})},
			want: buildInfo{Version: "v0.0.0-20261206144100-212ad5e0c0de+dirty", Commit: "212ad5e0c0de1111222233334444555566667777", Date: "2026-12-06T14:41:00Z", GoVersion: runtime.Version()},
		},
		{
			name: "go build without VCS stamping",
			bi:   &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}},
			want: buildInfo{Version: "dev", Commit: unknown, Date: unknown, GoVersion: "go1.26.8"},
		},
		{
			name: "no build info at all",
			want: buildInfo{Version: "dev", Commit: unknown, Date: unknown, GoVersion: runtime.Version()},
		},
		{
			name:   "a stamped version alone keeps the toolchain's commit",
			stampV: "1.4.0",
			bi:     &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("abc", "2026-12-06T14:41:00Z")},
			want:   buildInfo{Version: "1.4.0", Commit: "abc", Date: "2026-12-06T14:41:00Z", GoVersion: runtime.Version()},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.want.Platform = runtime.GOOS + "/" + runtime.GOARCH
			if got := resolveBuild(c.stampV, c.stampC, c.stampD, c.bi); got != c.want {
				t.Errorf("resolveBuild:\n got %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func runVersion(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	root := newRootCommand(&stdout, &stderr, env(nil))
	root.SetArgs(append([]string{"version"}, args...))
	err := root.Execute()
	return stdout.String(), err
}

func TestVersionCommandOutputs(t *testing.T) {
	want := currentBuild()
	if version != want.Version {
		t.Errorf("version = %q; the build's version is %q", version, want.Version)
	}

	out, err := runVersion(t)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"vpcroute " + want.Version, "commit:   " + want.Commit, "built:    " + want.Date, "go:       " + runtime.Version()} {
		if !strings.Contains(out, line+"\n") {
			t.Errorf("text output lacks %q:\n%s", line, out)
		}
	}

	out, err = runVersion(t, "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("version -o json: %v\n%s", err, out)
	}
	wantJSON := map[string]string{"version": want.Version, "commit": want.Commit, "date": want.Date,
		"goVersion": runtime.Version(), "platform": runtime.GOOS + "/" + runtime.GOARCH}
	if len(got) != len(wantJSON) {
		t.Errorf("version -o json keys = %v, want %v", got, wantJSON)
	}
	for k, v := range wantJSON {
		if got[k] != v {
			t.Errorf("version -o json %s = %q, want %q", k, got[k], v)
		}
	}

	_, err = runVersion(t, "-o", "yaml")
	var ue usageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), `output "yaml" is invalid: expected text or json`) {
		t.Errorf("version -o yaml: err = %v, want a usage error naming the value", err)
	}
}
