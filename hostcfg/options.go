package hostcfg

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"

	"github.com/vpcroute/vpcroute/cloud"
)

// Defaults for the paths in Options.
const (
	// DefaultProcSys is where the kernel's sysctls live.
	DefaultProcSys = "/proc/sys"
	// DefaultStateDir keeps what Cleanup needs to undo Apply. It is under
	// /run on purpose: iptables rules do not survive a reboot either.
	DefaultStateDir = "/run/vpcroute"
)

// Options is what Apply, Cleanup and Inspect need to know about this host.
// The zero values of ProcSys and StateDir mean the defaults above.
type Options struct {
	// Cluster tags every rule vpcroute writes ("vpcroute:<Cluster>"), so
	// that later runs can prove which rules are theirs.
	Cluster string
	// Subnets are this host's container subnets (the Docker bip and any
	// chosen bridge networks).
	Subnets []netip.Prefix
	// ClusterCIDR covers every host's container subnets.
	ClusterCIDR netip.Prefix
	// VPCCIDRs are the VPC's ranges: a host reaching a remote container
	// sends from its VPC address, so forwarding from them is accepted too.
	VPCCIDRs []netip.Prefix
	// ForwardPolicyAccept sets the filter FORWARD policy to ACCEPT, the
	// seed document's blunt fix. Off by default: the narrow rules suffice.
	ForwardPolicyAccept bool
	// ProcSys is the sysctl tree, DefaultProcSys when empty.
	ProcSys string
	// StateDir holds vpcroute's notes about what it changed, DefaultStateDir
	// when empty.
	StateDir string
}

// Validate checks the options Apply and Inspect need. Each error is one line
// naming the field, the value and what is expected.
func (o Options) Validate() error {
	if err := o.validateCommon(); err != nil {
		return err
	}
	if err := checkPrefix("ClusterCIDR", o.ClusterCIDR); err != nil {
		return err
	}
	for i, v := range o.VPCCIDRs {
		if err := checkPrefix(fmt.Sprintf("VPCCIDRs[%d]", i), v); err != nil {
			return err
		}
	}
	if len(o.Subnets) == 0 {
		return fmt.Errorf("hostcfg: Subnets is empty; expected at least one local container subnet such as 10.0.0.0/24")
	}
	for i, s := range o.Subnets {
		field := fmt.Sprintf("Subnets[%d]", i)
		if err := checkPrefix(field, s); err != nil {
			return err
		}
		if !cloud.PrefixContains(o.ClusterCIDR, s) {
			return fmt.Errorf("hostcfg: %s = %s is outside ClusterCIDR %s; expected a subnet inside the cluster CIDR", field, s, o.ClusterCIDR)
		}
		for j, v := range o.VPCCIDRs {
			if s.Overlaps(v) {
				return fmt.Errorf("hostcfg: %s = %s overlaps VPCCIDRs[%d] = %s; expected container subnets outside the VPC's ranges", field, s, j, v)
			}
		}
		for j, t := range o.Subnets[:i] {
			if s != t && s.Overlaps(t) {
				return fmt.Errorf("hostcfg: %s = %s overlaps Subnets[%d] = %s; expected disjoint local subnets", field, s, j, t)
			}
		}
	}
	return nil
}

// validateCommon checks what Cleanup needs too: the tag and the paths.
func (o Options) validateCommon() error {
	// One rule for cluster names everywhere (cloud.ValidateClusterName):
	// it also keeps the tag safe inside an iptables comment and readable in
	// `iptables -S` output.
	if err := cloud.ValidateClusterName(o.Cluster); err != nil {
		return fmt.Errorf("hostcfg: Cluster = %q is invalid: %w", o.Cluster, err)
	}
	if o.ProcSys != "" && !filepath.IsAbs(o.ProcSys) {
		return fmt.Errorf("hostcfg: ProcSys = %q is not absolute; expected a path such as %s", o.ProcSys, DefaultProcSys)
	}
	if o.StateDir != "" && !filepath.IsAbs(o.StateDir) {
		return fmt.Errorf("hostcfg: StateDir = %q is not absolute; expected a path such as %s", o.StateDir, DefaultStateDir)
	}
	return nil
}

// checkPrefix accepts a masked IPv4 prefix that is not 0.0.0.0/0: iptables
// prints "-s 0.0.0.0/0" as nothing, and a whole-Internet rule is a mistake.
func checkPrefix(field string, p netip.Prefix) error {
	switch {
	case !p.IsValid():
		return fmt.Errorf("hostcfg: %s is not set; expected an IPv4 prefix such as 10.0.0.0/8", field)
	case !p.Addr().Is4():
		return fmt.Errorf("hostcfg: %s = %s is not IPv4; expected an IPv4 prefix such as 10.0.0.0/8", field, p)
	case p.Bits() == 0:
		return fmt.Errorf("hostcfg: %s = %s is too broad; expected a prefix length of 1 to 32", field, p)
	case p.Masked() != p:
		return fmt.Errorf("hostcfg: %s = %s has host bits set; expected the network address %s", field, p, p.Masked())
	}
	return nil
}

// withDefaults fills the empty paths and returns the subnets and VPC CIDRs
// sorted and without duplicates, so the rule set does not depend on the
// order Docker or the flags listed them in.
func (o Options) withDefaults() Options {
	if o.ProcSys == "" {
		o.ProcSys = DefaultProcSys
	}
	if o.StateDir == "" {
		o.StateDir = DefaultStateDir
	}
	o.Subnets = sortedUnique(o.Subnets)
	o.VPCCIDRs = sortedUnique(o.VPCCIDRs)
	return o
}

// sortedUnique returns a sorted copy of ps without duplicates.
func sortedUnique(ps []netip.Prefix) []netip.Prefix {
	out := slices.Clone(ps)
	slices.SortFunc(out, comparePrefix)
	return slices.Compact(out)
}

// comparePrefix orders by address, then by prefix length.
func comparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return a.Bits() - b.Bits()
}
