package lab

import (
	"context"

	"github.com/vpcroute/vpcroute/internal/gobuild"
)

// Binaries the lab drives, as `go build` names them.
var binaryPackages = []string{"./cmd/vpcroute", "./cmd/vpcroute-sim"}

// ModuleDir returns the root of the Go module containing dir (the vpcroute
// checkout when run from inside it).
func ModuleDir(ctx context.Context, dir string) (string, error) {
	return gobuild.ModuleDir(ctx, dir)
}

// BuildBinaries builds vpcroute and vpcroute-sim from moduleDir into outDir.
func BuildBinaries(ctx context.Context, moduleDir, outDir string) error {
	return gobuild.Build(ctx, moduleDir, outDir, gobuild.Options{}, binaryPackages...)
}
