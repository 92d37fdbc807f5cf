package lab

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Binaries the lab drives, as `go build` names them.
var binaryPackages = []string{"./cmd/vpcroute", "./cmd/vpcroute-sim"}

// ModuleDir returns the root of the Go module containing dir (the vpcroute
// checkout when run from inside it).
func ModuleDir(ctx context.Context, dir string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "env", "GOMOD")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD in %s: %w", dir, err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == "/dev/null" {
		return "", fmt.Errorf("go env GOMOD in %s: not inside a Go module (run from the vpcroute checkout)", dir)
	}
	return filepath.Dir(mod), nil
}

// BuildBinaries builds vpcroute and vpcroute-sim from moduleDir into outDir.
func BuildBinaries(ctx context.Context, moduleDir, outDir string) error {
	args := append([]string{"build", "-o", outDir + "/"}, binaryPackages...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = moduleDir
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go %s in %s: %w: %s", strings.Join(args, " "), moduleDir, err, strings.TrimSpace(string(out)))
	}
	return nil
}
