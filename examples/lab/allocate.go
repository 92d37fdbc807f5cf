package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"go.uber.org/zap"

	"github.com/vpcroute/vpcroute/reconciler/allocate"
)

// InitialDockerConfig is every lab host's daemon.json before its first
// boot: no bip, and one key of the operator's that allocate must keep.
const InitialDockerConfig = `{"log-driver": "json-file"}` + "\n"

// DockerConfig is the path of h's daemon.json, which its dockerd reads
// (--config-file) and `vpcroute allocate` writes the bip into.
func (h *Host) DockerConfig() string { return filepath.Join(h.Dir, "daemon.json") }

// allocateHost is the first step of h's boot, what vpcroute-allocate.service
// does before Docker starts: `vpcroute allocate` inside h's namespace writes
// h's bip into its daemon.json, and h.Bip, h.Subnet and h.Allocation record
// the choice. A lab without the simulator has no vpcroute to run; it writes
// the bip the derived allocator gives (allocate.Derive, the function behind
// `vpcroute allocate --allocator derived`) so that its hosts, too, start
// without a planned bip.
func (l *Lab) allocateHost(ctx context.Context, h *Host) error {
	if _, err := os.Stat(h.DockerConfig()); os.IsNotExist(err) {
		if err := os.WriteFile(h.DockerConfig(), []byte(InitialDockerConfig), 0o644); err != nil {
			return fmt.Errorf("daemon.json for %s: %w", h.Name, err)
		}
	}
	var report string
	if l.sim == nil {
		subnet, err := l.deriveOffline(h)
		if err != nil {
			return err
		}
		b, err := json.Marshal(map[string]string{"bip": allocate.BIP(subnet)})
		if err != nil {
			return fmt.Errorf("daemon.json for %s: %w", h.Name, err)
		}
		if err := os.WriteFile(h.DockerConfig(), append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("daemon.json for %s: %w", h.Name, err)
		}
		report = fmt.Sprintf("derived %s for %s by the lab (no simulator)", subnet, h.IP)
	} else {
		out, err := l.Allocate(ctx, h, h.DockerConfig())
		if err != nil {
			return fmt.Errorf("allocate %s: %w", h.Name, err)
		}
		report = strings.TrimSpace(out)
	}
	bip, err := ReadBip(h.DockerConfig())
	if err != nil {
		return fmt.Errorf("allocate %s: %w", h.Name, err)
	}
	h.Bip, h.Subnet, h.Allocation = bip, bip.Masked(), report
	l.log.Info("allocated", zapHost(h), zap.String("ip", h.IP.String()), zap.String("subnet", h.Subnet.String()))
	return nil
}

// deriveOffline is the derived allocator's subnet for h, computed by the
// lab itself from the fixed VPC addressing.
func (l *Lab) deriveOffline(h *Host) (netip.Prefix, error) {
	subnet, err := allocate.Derive(allocate.Derived{
		PrivateIP: h.IP, VPCCIDRs: []netip.Prefix{netip.MustParsePrefix(VPCCIDR)},
		SubnetCIDRs: []netip.Prefix{netip.MustParsePrefix(VSwitchCIDR)},
		Cluster:     netip.MustParsePrefix(ClusterCIDR), Bits: vswitchBits,
	})
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("derive a subnet for %s: %w", h.Name, err)
	}
	return subnet, nil
}

// Allocate runs `vpcroute allocate --docker-config dockerConfig` inside
// h's namespace with the lab's flags, against the simulator and, when the
// lab runs etcd, with --etcd-endpoints (the leased allocator) and
// Config.Allocator when set, plus extra. It returns allocate's stdout; the
// error (a *CmdError) carries the exit code and stderr. Every host boots
// through it with its own daemon.json; tests may point it at another file.
func (l *Lab) Allocate(ctx context.Context, h *Host, dockerConfig string, extra ...string) (string, error) {
	args := []string{"--docker-config", dockerConfig}
	if ep := l.EtcdEndpoint(); ep != "" {
		args = append(args, "--etcd-endpoints", ep)
	}
	if l.cfg.Allocator != "" {
		args = append(args, "--allocator", l.cfg.Allocator)
	}
	return l.Vpcroute(ctx, h, "allocate", append(args, extra...)...)
}

// ReadBip reads the bip of the daemon.json at path as dockerd does: the
// "bip" key, a bridge address with its prefix length.
func ReadBip(path string) (netip.Prefix, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("read bip: %w", err)
	}
	var c struct {
		Bip string `json:"bip"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return netip.Prefix{}, fmt.Errorf("read bip: %s: %w", path, err)
	}
	bip, err := netip.ParsePrefix(c.Bip)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("read bip: %s has bip %q: expected an address with its prefix length", path, c.Bip)
	}
	return bip, nil
}
