package main

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/spf13/cobra"
)

// The release build (cmd/internal/release, make build, make install) stamps
// these with -ldflags "-X main.buildVersion=1.2.3 -X main.buildCommit=<sha>
// -X main.buildDate=<RFC 3339>". A plain go build or go install leaves them
// empty, and the Go toolchain's own build information answers instead.
var buildVersion, buildCommit, buildDate string

// version is this binary's version as status, metrics and host records
// report it.
var version = currentBuild().Version

// buildInfo says what this binary was built from.
type buildInfo struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	Date      string `json:"date"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
}

// unknown stands for a field neither the stamp nor the toolchain knows.
const unknown = "unknown"

// currentBuild reads this binary's stamp and build information.
func currentBuild() buildInfo {
	bi, _ := debug.ReadBuildInfo() // nil without module support: the stamp alone answers
	return resolveBuild(buildVersion, buildCommit, buildDate, bi)
}

// pseudoVersion matches a Go module pseudo-version's time stamp and
// revision (v0.0.0-20250322232337-35a7c28c31ee, v1.2.4-0.2025...-abc...,
// with +dirty when go build stamped a modified checkout).
var pseudoVersion = regexp.MustCompile(`[-.](\d{14})-([0-9a-f]{12})(\+[0-9A-Za-z.-]+)?$`)

// resolveBuild prefers what the release build stamped; for every field it
// did not stamp it takes the toolchain's build information: the module
// version (go install ...@v1.2.3), else the VCS revision and commit time
// go build records in a checkout, else what a pseudo-version carries.
func resolveBuild(stampVersion, stampCommit, stampDate string, bi *debug.BuildInfo) buildInfo {
	b := buildInfo{Version: stampVersion, Commit: stampCommit, Date: stampDate,
		GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi != nil {
		if bi.GoVersion != "" {
			b.GoVersion = bi.GoVersion
		}
		mod := bi.Main.Version
		if b.Version == "" && mod != "" && mod != "(devel)" {
			b.Version = mod
		}
		settings := map[string]string{}
		for _, s := range bi.Settings {
			settings[s.Key] = s.Value
		}
		if b.Commit == "" {
			b.Commit = settings["vcs.revision"]
		}
		if b.Date == "" {
			b.Date = settings["vcs.time"]
		}
		if m := pseudoVersion.FindStringSubmatch(mod); m != nil {
			if b.Commit == "" {
				b.Commit = m[2]
			}
			if t, err := time.Parse("20060102150405", m[1]); err == nil && b.Date == "" {
				b.Date = t.UTC().Format(time.RFC3339)
			}
		}
	}
	if b.Version == "" {
		b.Version = "dev"
	}
	if b.Commit == "" {
		b.Commit = unknown
	}
	if b.Date == "" {
		b.Date = unknown
	}
	return b
}

// writeText prints b for people.
func (b buildInfo) writeText(w io.Writer) error {
	_, err := fmt.Fprintf(w, "vpcroute %s\ncommit:   %s\nbuilt:    %s\ngo:       %s\nplatform: %s\n",
		b.Version, b.Commit, b.Date, b.GoVersion, b.Platform)
	return err
}

func newVersionCommand() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit, build date and Go version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b := currentBuild()
			switch output {
			case "text":
				return b.writeText(cmd.OutOrStdout())
			case "json":
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(b)
			default:
				return usageError{fmt.Errorf("output %q is invalid: expected text or json", output)}
			}
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}
