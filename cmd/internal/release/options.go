package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// arches are the architectures a release is built for, in Go's (and
// Debian's) names.
var arches = []string{"amd64", "arm64"}

// maxBinaryBytes is the most a stripped vpcroute binary may weigh: past it,
// something keeps the linker from dropping unused code again (a reflect
// method lookup: text/template, an embedded reflect.Type); see
// `go build -ldflags=-dumpdep`.
const maxBinaryBytes = 50 << 20

// options are what one release is built from.
type options struct {
	// Version is x.y.z or x.y.z-pre, without the leading v.
	Version string
	// OutDir receives the artifacts.
	OutDir string
	// Arches are the architectures to build.
	Arches []string
	// Commit is the git commit the release is built from.
	Commit string
	// Epoch is the commit's time: every file's mtime and the build date,
	// so that two builds of one commit are byte-for-byte equal.
	Epoch time.Time
	// AllowDirty builds from a work tree with uncommitted changes.
	AllowDirty bool
	// Maintainer is the Debian package's Maintainer field.
	Maintainer string
}

// semver is a release version: x.y.z with an optional pre-release.
var semver = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$`)

// rawOptions are the command line before validation; Commit and Epoch
// default to what git says about HEAD.
type rawOptions struct {
	version, outDir, arches, commit, epoch, maintainer string
	allowDirty                                         bool
}

// parseFlags reads the command line; SOURCE_DATE_EPOCH (reproducible-builds.org)
// comes from getenv.
func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (rawOptions, error) {
	var r rawOptions
	fs := flag.NewFlagSet("release", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&r.version, "version", "", "release version, x.y.z (a leading v is dropped)")
	fs.StringVar(&r.outDir, "out", "dist", "directory for the artifacts")
	fs.StringVar(&r.arches, "arch", strings.Join(arches, ","), "comma-separated architectures: "+strings.Join(arches, ", "))
	fs.StringVar(&r.commit, "commit", "", "commit the release is built from (default: git rev-parse HEAD)")
	fs.StringVar(&r.maintainer, "maintainer", "vpcroute developers", "the Debian package's Maintainer field")
	fs.BoolVar(&r.allowDirty, "allow-dirty", false, "build even if the work tree has uncommitted changes")
	if err := fs.Parse(args); err != nil {
		return r, err
	}
	if fs.NArg() > 0 {
		return r, fmt.Errorf("unexpected argument %q: expected flags only", fs.Arg(0))
	}
	r.epoch = getenv("SOURCE_DATE_EPOCH")
	return r, nil
}

// validate turns r into options; commit and epoch fill what r leaves
// empty (they ask git).
func (r rawOptions) validate(commit func() (string, error), epoch func() (string, error)) (options, error) {
	o := options{OutDir: r.outDir, AllowDirty: r.allowDirty, Maintainer: r.maintainer}
	v := strings.TrimPrefix(r.version, "v")
	if !semver.MatchString(v) {
		return o, fmt.Errorf("version %q is invalid: expected x.y.z or x.y.z-pre (semantic version, e.g. make release VERSION=1.4.0)", r.version)
	}
	o.Version = v
	if o.OutDir == "" {
		return o, errors.New("out is empty: expected a directory for the artifacts")
	}
	for _, a := range strings.Split(r.arches, ",") {
		a = strings.TrimSpace(a)
		if !slices.Contains(arches, a) {
			return o, fmt.Errorf("arch %q is invalid: expected one of %s", a, strings.Join(arches, ", "))
		}
		if !slices.Contains(o.Arches, a) {
			o.Arches = append(o.Arches, a)
		}
	}
	if strings.TrimSpace(o.Maintainer) == "" || strings.ContainsAny(o.Maintainer, "\n\r") {
		return o, fmt.Errorf("maintainer %q is invalid: expected one line such as \"Name <email>\"", o.Maintainer)
	}

	o.Commit = r.commit
	if o.Commit == "" {
		c, err := commit()
		if err != nil {
			return o, fmt.Errorf("commit: %w (outside a git checkout pass -commit and SOURCE_DATE_EPOCH)", err)
		}
		o.Commit = c
	}
	if !regexp.MustCompile(`^[0-9a-f]{7,64}$`).MatchString(o.Commit) {
		return o, fmt.Errorf("commit %q is invalid: expected a hexadecimal git commit id", o.Commit)
	}

	e := r.epoch
	if e == "" {
		var err error
		if e, err = epoch(); err != nil {
			return o, fmt.Errorf("SOURCE_DATE_EPOCH: %w (outside a git checkout set it to the commit's Unix time)", err)
		}
	}
	secs, err := strconv.ParseInt(e, 10, 64)
	if err != nil || secs <= 0 {
		return o, fmt.Errorf("SOURCE_DATE_EPOCH %q is invalid: expected the commit's time in seconds since 1970", e)
	}
	o.Epoch = time.Unix(secs, 0).UTC()
	return o, nil
}

// date is the build date vpcroute version reports.
func (o options) date() string { return o.Epoch.Format(time.RFC3339) }
