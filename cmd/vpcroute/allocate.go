package main

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net/netip"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.uber.org/zap"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/hostcfg"
	"github.com/vpcroute/vpcroute/reconciler"
	"github.com/vpcroute/vpcroute/reconciler/allocate"
)

// Allocators `vpcroute allocate` chooses between.
const (
	allocatorDerived = "derived"
	allocatorLeased  = "leased"
)

// allocateOptions are the flags of `vpcroute allocate` alone.
type allocateOptions struct {
	DockerConfig string
	SubnetSize   string
	Allocator    string
	Force        bool
}

func newAllocateCommand(o *options, shared *pflag.FlagSet) *cobra.Command {
	ao := &allocateOptions{}
	cmd := &cobra.Command{
		Use:   "allocate",
		Short: "Choose this host's Docker bip inside the cluster CIDR and write it into daemon.json",
		Long: `allocate runs before dockerd starts. It chooses this host's container subnet
inside the cluster CIDR, clear of every VPC and vswitch CIDR and of other
hosts' subnets, and writes its first address as "bip" into daemon.json,
keeping every other key. derived (the default without --etcd-endpoints)
computes the subnet from this host's private IP; leased takes one from
etcd. An existing bip is kept when nothing else holds it; one that
overlaps is an error unless --force. A second run changes nothing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runAllocate(cmd.Context(), o, ao, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&ao.DockerConfig, "docker-config", "/etc/docker/daemon.json", "Docker's daemon.json to write the bip into")
	cmd.Flags().StringVar(&ao.SubnetSize, "host-subnet-size", "/24", "length of each host's subnet")
	cmd.Flags().StringVar(&ao.Allocator, "allocator", "", "derived (from the private IP, no etcd) or leased (etcd); default: leased with --etcd-endpoints")
	cmd.Flags().BoolVar(&ao.Force, "force", false, "replace an existing bip that overlaps the VPC, a vswitch or another host's subnet")
	_ = cmd.RegisterFlagCompletionFunc("allocator", cobra.FixedCompletions([]string{allocatorDerived, allocatorLeased}, cobra.ShellCompDirectiveNoFileComp))
	addShared(cmd, shared, []string{groupGeneral, groupCluster, groupCloud, groupRegistry})
	return cmd
}

// allocation is what runAllocate learned before choosing.
type allocation struct {
	self    cloud.Instance
	network cloud.Network
	space   allocate.Space
	// taken are the ranges no subnet may overlap, each named for errors:
	// VPC and vswitch CIDRs, and other hosts' routes.
	taken []namedRange
}

// namedRange is a range a subnet must stay clear of, and what it is.
type namedRange struct {
	cidr netip.Prefix
	what string
}

func runAllocate(ctx context.Context, o *options, ao *allocateOptions, stdout io.Writer) error {
	p, err := o.validate()
	if err != nil {
		return usageError{err}
	}
	bits, err := allocate.ParseSize(ao.SubnetSize)
	if err != nil {
		return usageError{err}
	}
	leased := len(o.EtcdEndpoints) > 0
	switch ao.Allocator {
	case "":
	case allocatorDerived:
		leased = false
	case allocatorLeased:
		if !leased {
			return usageError{fmt.Errorf("allocator %q needs --etcd-endpoints: expected derived without etcd", ao.Allocator)}
		}
	default:
		return usageError{fmt.Errorf("allocator %q is invalid: expected derived or leased", ao.Allocator)}
	}
	if bits < p.clusterCIDR.Bits() {
		return usageError{fmt.Errorf("host-subnet-size /%d is invalid: expected /%d (the cluster CIDR %s) or longer", bits, p.clusterCIDR.Bits(), p.clusterCIDR)}
	}
	file, err := hostcfg.LoadDockerConfig(ao.DockerConfig)
	if err != nil {
		return usageError{err}
	}
	if br, _, err := file.Config.String("bridge"); err != nil || br != "" {
		return usageError{fmt.Errorf("%s sets bridge %q: dockerd refuses bip with bridge; remove bridge to let vpcroute set the bip", ao.DockerConfig, br)}
	}
	bip, hasBIP, err := file.Config.BIP()
	if err != nil && !ao.Force {
		return usageError{fmt.Errorf("%s: %w (run with --force to replace it)", ao.DockerConfig, err)}
	}
	log, err := newLogger(o)
	if err != nil {
		return err
	}
	defer func() { _ = log.Sync() }()
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()

	mode := allocatorDerived
	if leased {
		mode = allocatorLeased
	}
	a, err := readAllocation(ctx, o, p, bits, log)
	switch {
	case err == nil && !leased:
		return deriveAndWrite(ao, a, file, bip, hasBIP, stdout)
	case err == nil:
		if err = leaseAndWrite(ctx, o, ao, a, file, bip, hasBIP, log, stdout); err == nil || !isUnreachable(err) {
			return err
		}
	}
	var ue usageError
	if hasBIP && bip.IsValid() && !errors.As(err, &ue) {
		// The data plane never waits for the control plane: a bip written
		// by an earlier run lets Docker start while the cloud or etcd is
		// down.
		log.Warn("could not check the existing bip; keeping it", zap.String("bip", bip.String()), zap.Error(err))
		fmt.Fprintf(stdout, "kept bip %s of %s (%s, not checked: %s)\n", bip, ao.DockerConfig, mode, oneLine(err))
		return nil
	}
	return err
}

// errUnreachable marks a failure to reach etcd or the cloud, as opposed
// to a refusal.
type errUnreachable struct{ err error }

func (e errUnreachable) Error() string { return e.err.Error() }
func (e errUnreachable) Unwrap() error { return e.err }

func isUnreachable(err error) bool {
	var u errUnreachable
	return errors.As(err, &u)
}

// readAllocation reads this host's identity, the VPC and the managed route
// tables from the cloud.
func readAllocation(ctx context.Context, o *options, p parsed, bits int, log *zap.Logger) (allocation, error) {
	var a allocation
	prov, err := newProvider(ctx, o, p, log)
	if err != nil {
		return a, err
	}
	if a.self, err = prov.Self(ctx); err != nil {
		return a, fmt.Errorf("read this host's identity: %w", err)
	}
	if a.network, err = prov.Network(ctx); err != nil {
		return a, fmt.Errorf("read the VPC: %w", err)
	}
	if err := reconciler.ValidateClusterCIDR(p.clusterCIDR, a.network.CIDRs); err != nil {
		return a, usageError{err}
	}
	a.space = allocate.Space{Cluster: p.clusterCIDR, Bits: bits}
	for _, c := range a.network.CIDRs {
		a.taken = append(a.taken, namedRange{c, "the VPC CIDR " + c.String()})
		a.space.Exclude = append(a.space.Exclude, c)
	}
	for _, c := range a.network.SubnetCIDRs {
		a.taken = append(a.taken, namedRange{c, "the vswitch CIDR " + c.String()})
		a.space.Exclude = append(a.space.Exclude, c)
	}
	for _, t := range a.network.RouteTables {
		routes, err := prov.Routes(ctx, t)
		if err != nil {
			return a, fmt.Errorf("read route table %s: %w", t, err)
		}
		for _, r := range routes {
			mine := r.OwnedBy(o.ClusterName) && r.Target == a.self.Target
			if mine || r.System || r.Destination.Bits() == 0 || !r.Destination.Overlaps(p.clusterCIDR) {
				continue
			}
			a.taken = append(a.taken, namedRange{r.Destination, fmt.Sprintf("%s, routed to %s in %s", r.Destination, r.Target, t)})
		}
	}
	return a, nil
}

// conflict names the first range that subnet may not take: overlapping
// one of taken, outside the cluster CIDR, or overlapping others (leased to
// other hosts). "" when it is free. The VPC and vswitch come first: a bip
// inside the VPC is outside the cluster CIDR too, but the overlap is what
// breaks the host, so that is the range to name.
func (a allocation) conflict(subnet netip.Prefix, others []netip.Prefix) string {
	for _, t := range a.taken {
		if t.cidr.Overlaps(subnet) {
			return "overlaps " + t.what
		}
	}
	if !a.space.Cluster.Contains(subnet.Addr()) || subnet.Bits() < a.space.Cluster.Bits() {
		return "outside the cluster CIDR " + a.space.Cluster.String()
	}
	if o, hit := allocate.Overlapping(subnet, others); hit {
		return "overlaps " + o.String() + ", leased to another host"
	}
	return ""
}

// takenRanges are the ranges of taken and others together.
func (a allocation) takenRanges(others []netip.Prefix) []netip.Prefix {
	out := append([]netip.Prefix(nil), others...)
	for _, t := range a.taken {
		out = append(out, t.cidr)
	}
	return out
}

// existingRefused is the error for a bip that may not stay.
func existingRefused(path string, bip netip.Prefix, why string) error {
	return fmt.Errorf("%s bip %s (subnet %s) %s: fix the other side, or run with --force to be given another subnet", path, bip, bip.Masked(), why)
}

func deriveAndWrite(ao *allocateOptions, a allocation, file hostcfg.DockerConfigFile, bip netip.Prefix, hasBIP bool, stdout io.Writer) error {
	if hasBIP && bip.IsValid() {
		why := a.conflict(bip.Masked(), nil)
		if why == "" {
			return writeBIP(ao, a, file, bip.Masked(), allocatorDerived, "kept", stdout)
		}
		if !ao.Force {
			return existingRefused(ao.DockerConfig, bip, why)
		}
	}
	subnet, err := allocate.Derive(allocate.Derived{PrivateIP: a.self.PrivateIP, VPCCIDRs: a.network.CIDRs,
		SubnetCIDRs: a.network.SubnetCIDRs, Cluster: a.space.Cluster, Bits: a.space.Bits})
	if err != nil {
		return usageError{err}
	}
	if why := a.conflict(subnet, nil); why != "" {
		return fmt.Errorf("derived subnet %s for %s %s: set the bip by hand or use --etcd-endpoints to lease subnets", subnet, a.self.PrivateIP, why)
	}
	return writeBIP(ao, a, file, subnet, allocatorDerived, "allocated", stdout)
}

func leaseAndWrite(ctx context.Context, o *options, ao *allocateOptions, a allocation, file hostcfg.DockerConfigFile,
	bip netip.Prefix, hasBIP bool, log *zap.Logger, stdout io.Writer) error {
	reg, err := openRegistry(ctx, o, log)
	if err != nil {
		return errUnreachable{err}
	}
	defer func() { _ = reg.Close() }() // a read-write session; nothing is pending at close
	verb := "allocated"
	choose := func(current netip.Prefix, others []netip.Prefix) (netip.Prefix, error) {
		if hasBIP && bip.IsValid() {
			why := a.conflict(bip.Masked(), others)
			if why == "" {
				verb = "kept"
				return bip.Masked(), nil
			}
			if !ao.Force {
				return netip.Prefix{}, existingRefused(ao.DockerConfig, bip, why)
			}
		}
		if current.IsValid() && current.Bits() == a.space.Bits && a.conflict(current, others) == "" {
			return current, nil
		}
		h := fnv.New64a()
		_, _ = h.Write([]byte(a.self.ID)) // hash writes do not fail
		p, ok := allocate.Pick(a.space, h.Sum64(), a.takenRanges(others))
		if !ok {
			return netip.Prefix{}, fmt.Errorf("no free /%d left in the cluster CIDR %s (%d leased by other hosts): use a broader cluster CIDR or a smaller --host-subnet-size",
				a.space.Bits, a.space.Cluster, len(others))
		}
		return p, nil
	}
	subnet, err := reg.LeaseSubnet(ctx, a.self.ID, choose)
	if err != nil {
		return err
	}
	return writeBIP(ao, a, file, subnet, allocatorLeased, verb, stdout)
}

// writeBIP writes subnet's bip into daemon.json, unless it is there.
func writeBIP(ao *allocateOptions, a allocation, file hostcfg.DockerConfigFile, subnet netip.Prefix, mode, verb string, stdout io.Writer) error {
	value := allocate.BIP(subnet)
	if cur, ok, _ := file.Config.BIP(); ok && cur.Masked() == subnet {
		value = cur.String() // keep the bridge address the operator chose
	}
	if fc, ok, err := file.Config.String("fixed-cidr"); err != nil || ok && !fixedInside(fc, subnet) {
		return fmt.Errorf("%s sets fixed-cidr %q, not inside the subnet %s: remove fixed-cidr or make it part of %s", ao.DockerConfig, fc, subnet, subnet)
	}
	data, changed := file.Config.WithBIP(value)
	what := "unchanged"
	if changed {
		backup, err := hostcfg.SaveDockerConfig(file, data)
		if err != nil {
			return err
		}
		what = "written"
		if backup != "" {
			what += ", previous file in " + backup
		}
	}
	fmt.Fprintf(stdout, "%s %s to %s (%s): bip %s in %s %s\n", verb, subnet, a.self.ID, mode, value, ao.DockerConfig, what)
	return nil
}

func fixedInside(fixed string, subnet netip.Prefix) bool {
	p, err := netip.ParsePrefix(fixed)
	return err == nil && cloud.PrefixContains(subnet, p)
}
