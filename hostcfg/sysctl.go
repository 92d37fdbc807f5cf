package hostcfg

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// sysctlIPForward is the only sysctl vpcroute sets.
const sysctlIPForward = "net.ipv4.ip_forward"

// sysctlPath maps a dotted sysctl name to its file under procSys.
func sysctlPath(procSys, name string) string {
	return filepath.Join(procSys, filepath.FromSlash(strings.ReplaceAll(name, ".", "/")))
}

// readSysctl returns the sysctl's value without the trailing newline.
func readSysctl(procSys, name string) (string, error) {
	b, err := os.ReadFile(sysctlPath(procSys, name))
	if err != nil {
		return "", fmt.Errorf("read sysctl %s: %w", name, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// writeSysctl sets the sysctl. The file must exist: creating it would only
// hide a wrong ProcSys.
func writeSysctl(procSys, name, value string) error {
	f, err := os.OpenFile(sysctlPath(procSys, name), os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return fmt.Errorf("write sysctl %s=%s: %w", name, value, err)
	}
	_, werr := f.WriteString(value + "\n")
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return fmt.Errorf("write sysctl %s=%s: %w", name, value, werr)
	}
	return nil
}

// EnsureIPForward sets net.ipv4.ip_forward=1 under procSys (DefaultProcSys
// when empty) and reports whether it had to change it. Apply calls it; it
// is exported for callers that only need forwarding.
//
// Cleanup never turns forwarding off again: Docker needs it as well, and
// other software may have come to rely on it since.
func EnsureIPForward(procSys string) (changed bool, err error) {
	if procSys == "" {
		procSys = DefaultProcSys
	}
	v, err := readSysctl(procSys, sysctlIPForward)
	if err != nil {
		return false, err
	}
	if v == "1" {
		return false, nil
	}
	if err := writeSysctl(procSys, sysctlIPForward, "1"); err != nil {
		return false, err
	}
	// Read back: in a container without CAP_NET_ADMIN over the namespace,
	// the write can be ignored rather than refused.
	v, err = readSysctl(procSys, sysctlIPForward)
	if err != nil {
		return true, err
	}
	if v != "1" {
		return true, errors.New("write sysctl " + sysctlIPForward + "=1: the kernel still reports " + v)
	}
	return true, nil
}
