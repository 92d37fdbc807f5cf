package lab

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// VpcrouteFlags are the flags every vpcroute command gets on host h: the
// simulator as cloud API and metadata service, the host's own dockerd, the
// lab's cluster, its own state directory, and an empty config file so the
// machine's /etc/vpcroute/config.yaml cannot change the lab.
func (l *Lab) VpcrouteFlags(h *Host) []string {
	ep := l.SimEndpoint()
	flags := []string{
		"--provider", l.cfg.Provider,
		"--endpoint", ep,
		"--metadata-endpoint", ep,
		"--cluster-cidr", ClusterCIDR,
		"--cluster-name", ClusterName,
		"--docker-host", h.DockerHost,
		"--config", filepath.Join(l.Dir, "vpcroute.yaml"),
		// Every host shares the machine's filesystem, so each needs its
		// own record of what vpcroute changed there.
		"--state-dir", filepath.Join(h.Dir, "vpcroute-state"),
	}
	return append(flags, l.cloud.vpcrouteFlags()...)
}

// narrowCommands are the vpcroute commands that take only some of the lab
// flags (vpcroute refuses a flag a command does not use): status reads
// the daemon's address, which its caller gives, and the config file;
// cleanup the cluster name, the state directory and the config file;
// allocate everything but Docker's address and the state directory (it
// runs before Docker and changes only daemon.json). Every other command
// takes them all.
var narrowCommands = map[string][]string{
	"status":   {"--config"},
	"cleanup":  {"--config", "--cluster-name", "--state-dir"},
	"allocate": {"--provider", "--endpoint", "--metadata-endpoint", "--cluster-cidr", "--cluster-name", "--config", "--route-table-tag"},
}

// commandFlags keeps of the lab flags (each "--name value", or a bare
// "--name" for a boolean) those subcommand takes.
func commandFlags(subcommand string, flags []string) []string {
	keep, narrow := narrowCommands[subcommand]
	if !narrow {
		return flags
	}
	var out []string
	for i := 0; i < len(flags); i++ {
		n := 1
		if i+1 < len(flags) && !strings.HasPrefix(flags[i+1], "--") {
			n = 2 // the flag's value
		}
		if slices.Contains(keep, flags[i]) {
			out = append(out, flags[i:i+n]...)
		}
		i += n - 1
	}
	return out
}

// vpcrouteEnv is the whole environment of a vpcroute run: the cloud's
// (the lab credential; on EC2 none: see awsVpcrouteEnv) and nothing from the
// caller's environment (no VPCROUTE_*, no real cloud credentials, HOME
// pointing into the lab so no credentials file of the user is read).
func (l *Lab) vpcrouteEnv() []string {
	env := []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=" + l.Dir,
	}
	return append(env, l.cloud.vpcrouteEnv(l.SimEndpoint())...)
}

// Vpcroute runs `vpcroute SUBCOMMAND` inside host h's network namespace with
// the lab flags and extra arguments, and returns its stdout.
func (l *Lab) Vpcroute(ctx context.Context, h *Host, subcommand string, extra ...string) (string, error) {
	if l.sim == nil {
		return "", fmt.Errorf("vpcroute %s on %s: the lab has no simulator (Config.BinDir is empty)", subcommand, h.Name)
	}
	bin := filepath.Join(l.cfg.BinDir, "vpcroute")
	args := append([]string{"--net=" + nsPath(h.Netns), "--", bin, subcommand}, commandFlags(subcommand, l.VpcrouteFlags(h))...)
	args = append(args, extra...)
	l.log.Debug("vpcroute", zapHost(h), zapArgs(subcommand, extra))
	out, err := run(ctx, cmdSpec{
		name:    "nsenter",
		args:    args,
		env:     l.vpcrouteEnv(),
		timeout: 2 * l.cfg.StepTimeout,
		display: fmt.Sprintf("vpcroute %s on %s", strings.Join(append([]string{subcommand}, extra...), " "), h.Name),
	})
	l.races.noteCmd(fmt.Sprintf("vpcroute %s on %s", subcommand, h.Name), err)
	return out, err
}

// SyncResult is one host's `vpcroute sync`.
type SyncResult struct {
	Host     *Host
	Duration time.Duration
	Output   string
	Err      error
}

// Sync runs `vpcroute sync` on host h.
func (l *Lab) Sync(ctx context.Context, h *Host, extra ...string) SyncResult {
	start := time.Now()
	out, err := l.Vpcroute(ctx, h, "sync", extra...)
	return SyncResult{Host: h, Duration: time.Since(start), Output: out, Err: err}
}

// SyncAll runs `vpcroute sync` on every host at the same moment, as
// cloud-init would on hosts booting together; the error joins every
// host's failure.
func (l *Lab) SyncAll(ctx context.Context) ([]SyncResult, error) {
	hosts := l.hostList()
	res := make([]SyncResult, len(hosts))
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i] = l.Sync(ctx, h)
		}()
	}
	wg.Wait()
	var errs []string
	for _, r := range res {
		if r.Err != nil {
			errs = append(errs, r.Err.Error())
		}
	}
	if len(errs) > 0 {
		return res, fmt.Errorf("sync: %s", strings.Join(errs, "; "))
	}
	return res, nil
}
