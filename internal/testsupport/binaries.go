package testsupport

import (
	"context"
	"fmt"
	"os"

	"github.com/vpcroute/vpcroute/internal/gobuild"
)

// The commands tests run as processes, as import paths.
const (
	VpcroutePkg    = "github.com/vpcroute/vpcroute/cmd/vpcroute"
	VpcrouteSimPkg = "github.com/vpcroute/vpcroute/cmd/vpcroute-sim"
)

// BuildBinaries builds pkgs into outDir from the module holding the
// working directory (go test runs in the package's). They are built with
// -race when this test binary is, so that `go test -race` also runs the
// daemons under the race detector.
func BuildBinaries(ctx context.Context, outDir string, pkgs ...string) error {
	wd, err := os.Getwd()
	if err != nil {
		return fmt.Errorf("build test binaries: %w", err)
	}
	mod, err := gobuild.ModuleDir(ctx, wd)
	if err != nil {
		return fmt.Errorf("build test binaries: %w", err)
	}
	return gobuild.Build(ctx, mod, outDir, gobuild.Options{Race: Race}, pkgs...)
}
