package main

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestValidateOptions(t *testing.T) {
	head := func() (string, error) { return "212ad5e0c0de1111222233334444555566667777", nil }
	headTime := func() (string, error) { return "1796568060", nil }
	noGit := func() (string, error) { return "", errors.New("not a git repository") }
	good := rawOptions{version: "1.4.0", outDir: "dist", arches: "amd64,arm64", maintainer: "vpcroute developers"}

	o, err := good.validate(head, headTime)
	if err != nil {
		t.Fatal(err)
	}
	if o.Version != "1.4.0" || !slices.Equal(o.Arches, []string{"amd64", "arm64"}) || o.Commit != "212ad5e0c0de1111222233334444555566667777" ||
		!o.Epoch.Equal(time.Unix(1796568060, 0)) || o.date() != "2026-12-06T14:41:00Z" {
		t.Errorf("validate = %+v", o)
	}

	for _, c := range []struct {
		name   string
		edit   func(*rawOptions)
		commit func() (string, error)
		want   string // "" = valid
		check  func(options) bool
	}{
		{name: "leading v dropped", edit: func(r *rawOptions) { r.version = "v1.4.0" }, check: func(o options) bool { return o.Version == "1.4.0" }},
		{name: "pre-release", edit: func(r *rawOptions) { r.version = "1.4.0-rc.1" }, check: func(o options) bool { return o.Version == "1.4.0-rc.1" }},
		{name: "one arch, repeated", edit: func(r *rawOptions) { r.arches = "arm64, arm64" }, check: func(o options) bool { return slices.Equal(o.Arches, []string{"arm64"}) }},
		{name: "explicit commit and epoch", edit: func(r *rawOptions) { r.commit, r.epoch = "abcdef1", "100" }, commit: noGit,
			check: func(o options) bool { return o.Commit == "abcdef1" && o.Epoch.Equal(time.Unix(100, 0)) }},
		{name: "git describe output", edit: func(r *rawOptions) { r.version = "212ad5e-dirty" }, want: `version "212ad5e-dirty" is invalid: expected x.y.z`},
		{name: "empty version", edit: func(r *rawOptions) { r.version = "" }, want: `version "" is invalid`},
		{name: "two parts", edit: func(r *rawOptions) { r.version = "1.4" }, want: `version "1.4" is invalid`},
		{name: "leading zero", edit: func(r *rawOptions) { r.version = "01.4.0" }, want: `version "01.4.0" is invalid`},
		{name: "path in version", edit: func(r *rawOptions) { r.version = "1.4.0/../x" }, want: `version "1.4.0/../x" is invalid`},
		{name: "unknown arch", edit: func(r *rawOptions) { r.arches = "amd64,riscv64" }, want: `arch "riscv64" is invalid: expected one of amd64, arm64`},
		{name: "no out dir", edit: func(r *rawOptions) { r.outDir = "" }, want: "out is empty"},
		{name: "two-line maintainer", edit: func(r *rawOptions) { r.maintainer = "a\nDepends: evil" }, want: `maintainer "a\nDepends: evil" is invalid`},
		{name: "bad commit", edit: func(r *rawOptions) { r.commit = "HEAD~1" }, want: `commit "HEAD~1" is invalid: expected a hexadecimal git commit id`},
		{name: "bad epoch", edit: func(r *rawOptions) { r.epoch = "yesterday" }, want: `SOURCE_DATE_EPOCH "yesterday" is invalid`},
		{name: "no git, no commit", edit: func(r *rawOptions) {}, commit: noGit, want: "commit: not a git repository (outside a git checkout pass -commit and SOURCE_DATE_EPOCH)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := good
			c.edit(&r)
			commit := head
			if c.commit != nil {
				commit = c.commit
			}
			o, err := r.validate(commit, headTime)
			if c.want == "" {
				if err != nil || !c.check(o) {
					t.Errorf("validate = %+v, %v", o, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want %q", err, c.want)
			}
		})
	}
}

func TestParseFlags(t *testing.T) {
	env := func(k string) string {
		if k == "SOURCE_DATE_EPOCH" {
			return "1796568060"
		}
		return ""
	}
	r, err := parseFlags([]string{"-version", "1.4.0", "-arch", "amd64"}, env, io.Discard)
	if err != nil || r.version != "1.4.0" || r.arches != "amd64" || r.outDir != "dist" || r.epoch != "1796568060" {
		t.Errorf("parseFlags = %+v, %v", r, err)
	}
	if _, err := parseFlags([]string{"-version", "1.4.0", "extra"}, env, io.Discard); err == nil || !strings.Contains(err.Error(), `unexpected argument "extra"`) {
		t.Errorf("extra argument: %v", err)
	}
}
