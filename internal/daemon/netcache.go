package daemon

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"time"
)

// DefaultCacheDir is where the daemon keeps what it last learned from the
// cloud, so that after a reboot it can configure the host before the cloud
// API answers. Unlike --state-dir (under /run, gone at reboot on purpose)
// it survives a reboot.
const DefaultCacheDir = "/var/lib/vpcroute"

// networkCacheFile is the saved network's file name in the cache dir.
const networkCacheFile = "network.json"

// SavedNetwork is what host configuration needs from the cloud: the VPC's
// CIDRs (forwarding from them into local subnets is accepted), saved when
// the cloud was last read.
type SavedNetwork struct {
	VPCID   string         `json:"vpcId"`
	CIDRs   []netip.Prefix `json:"cidrs"`
	SavedAt time.Time      `json:"savedAt"`
}

// loadNetwork reads the saved network; false when there is none.
func loadNetwork(dir string) (SavedNetwork, bool, error) {
	var n SavedNetwork
	path := filepath.Join(dir, networkCacheFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return n, false, nil
	}
	if err != nil {
		return n, false, fmt.Errorf("read saved network %s: %w", path, err)
	}
	if err := json.Unmarshal(b, &n); err != nil {
		return n, false, fmt.Errorf("saved network %s is not valid: %w", path, err)
	}
	if len(n.CIDRs) == 0 {
		return n, false, fmt.Errorf("saved network %s holds no VPC CIDR", path)
	}
	return n, true, nil
}

// SaveNetwork writes n atomically: a crash or a reboot in the middle leaves
// the previous file or the new one, never a torn one.
func SaveNetwork(dir string, n SavedNetwork) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("save network: %w", err)
	}
	b, err := json.MarshalIndent(n, "", "  ")
	if err != nil {
		return fmt.Errorf("save network: %w", err)
	}
	tmp, err := os.CreateTemp(dir, networkCacheFile+".*")
	if err != nil {
		return fmt.Errorf("save network: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("save network to %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("save network to %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save network to %s: %w", tmp.Name(), err)
	}
	path := filepath.Join(dir, networkCacheFile)
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save network to %s: %w", path, err)
	}
	// The rename is durable once the directory is.
	if d, err := os.Open(dir); err == nil {
		err = d.Sync()
		_ = d.Close()
		if err != nil {
			return fmt.Errorf("save network to %s: sync directory: %w", path, err)
		}
	}
	return nil
}
