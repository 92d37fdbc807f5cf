package main

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.uber.org/zap"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/hostcfg"
	"github.com/vpcroute/vpcroute/reconciler"
	"github.com/vpcroute/vpcroute/reconciler/registry"
)

func newSyncCommand(o *options, shared *pflag.FlagSet) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sync",
		Short: "Configure this host and ensure its routes in every managed route table, then exit",
		Long: `sync discovers this host's container subnets, enables ip_forward, lets the
cluster's traffic through iptables, and creates "subnet -> this instance"
routes in every managed route table. It exits 0 only when the host is
configured and every route is Available. Running it again changes nothing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSync(cmd.Context(), o, cmd.OutOrStdout())
		},
	}
	cmd.Flags().BoolVar(&o.Remove, "remove", false, "delete this host's routes instead (decommissioning)")
	addShared(cmd, shared, syncGroups)
	return cmd
}

// syncGroups are the shared flags of sync, and of plan, its dry run.
var syncGroups = []string{groupGeneral, groupCluster, groupCloud, groupSubnets, groupRouting, groupHost, groupRegistry}

func runSync(ctx context.Context, o *options, stdout io.Writer) error {
	p, err := o.validate()
	if err != nil {
		return usageError{err}
	}
	log, err := newLogger(o)
	if err != nil {
		return err
	}
	defer func() { _ = log.Sync() }()
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	start := time.Now()

	prep, err := prepare(ctx, o, p, log)
	if err != nil {
		return err
	}
	plan := prep.plan
	if len(o.EtcdEndpoints) > 0 {
		// Deregister before deleting, so that the leader does not put the
		// routes back; register before creating, so that it keeps them.
		if err := syncRegistry(ctx, o, plan, log); err != nil {
			return err
		}
	}
	if o.HostConfig && !o.Remove {
		host := hostOptions(o, p)
		host.Subnets, host.VPCCIDRs = plan.Subnets, plan.Network.CIDRs
		res, err := hostcfg.Apply(ctx, host, log)
		if err != nil {
			return fmt.Errorf("configure host: %w", err)
		}
		log.Info("host configured", zap.Bool("changed", res.Changed()))
	}
	if hp, ok := prep.provider.(cloud.HostPreparer); ok && !o.Remove {
		if err := hp.PrepareHost(ctx); err != nil {
			return fmt.Errorf("prepare this instance for routing: %w", err)
		}
	}
	err = reconciler.ApplyHost(ctx, prep.provider, plan, o.Timeout)
	if err == nil && o.Remove && len(o.EtcdEndpoints) > 0 {
		// Its routes are gone: the subnet may go to another host now.
		err = releaseSubnetLease(ctx, o, plan.Self.ID, log)
	}
	ch := plan.Changes
	fmt.Fprintf(stdout, "%s: instance %s, subnets %v: created %d, deleted %d, in sync %d, in %d tables (%.1fs)\n",
		verb(o.Remove, err), plan.Self.ID, plan.Subnets, len(ch.Create), len(ch.Delete), len(ch.InSync),
		len(plan.Network.RouteTables), time.Since(start).Seconds())
	for _, c := range ch.Conflicts {
		if !c.Blocking() {
			log.Warn("route is shadowed", zap.String("reason", c.Reason))
		}
	}
	return err
}

func verb(remove bool, err error) string {
	switch {
	case err != nil:
		return "sync failed"
	case remove:
		return "removed"
	}
	return "synced"
}

// syncRegistry writes (or, with --remove, deletes) this host's record in
// the registry, keeping the claim times of an existing record.
func syncRegistry(ctx context.Context, o *options, plan reconciler.HostPlan, log *zap.Logger) error {
	reg, err := openRegistry(ctx, o, log)
	if err != nil {
		return err
	}
	defer func() { _ = reg.Close() }() // done with it either way
	if o.Remove {
		if err := reg.Remove(ctx, plan.Self.ID); err != nil {
			return fmt.Errorf("deregister %s: %w", plan.Self.ID, err)
		}
		log.Info("deregistered this host", zap.String("instance", plan.Self.ID))
		return nil
	}
	prev, _, err := reg.Get(ctx, plan.Self.ID)
	if err != nil {
		return fmt.Errorf("read this host's record: %w", err)
	}
	since := map[netip.Prefix]time.Time{}
	for _, c := range prev.Subnets {
		since[c.Subnet] = c.Since
	}
	now := time.Now()
	h := reconciler.Host{Instance: plan.Self.ID, Target: plan.Self.Target, PrivateIP: plan.Self.PrivateIP,
		HostConfig: prev.HostConfig, Version: version, StatusAddr: prev.StatusAddr, LastSeen: now}
	for _, s := range plan.Subnets {
		t, ok := since[s]
		if !ok || t.IsZero() {
			t = now
		}
		h.Subnets = append(h.Subnets, reconciler.Claim{Subnet: s, Since: t})
	}
	if err := reg.Publish(ctx, h); err != nil {
		return fmt.Errorf("register %s: %w", plan.Self.ID, err)
	}
	return nil
}

// releaseSubnetLease gives up this host's subnet lease (`vpcroute allocate`
// with etcd), once its routes are deleted.
func releaseSubnetLease(ctx context.Context, o *options, instance string, log *zap.Logger) error {
	reg, err := openRegistry(ctx, o, log)
	if err != nil {
		return err
	}
	defer func() { _ = reg.Close() }() // done with it either way
	p, err := reg.ReleaseSubnet(ctx, instance)
	if err != nil {
		return err
	}
	if p.IsValid() {
		log.Info("released this host's subnet lease", zap.Stringer("subnet", p))
	}
	return nil
}

// openRegistry connects to the configured etcd, logging under "registry".
func openRegistry(ctx context.Context, o *options, log *zap.Logger) (*registry.Registry, error) {
	ro := o.registryOptions()
	ro.Logger = log.Named("registry")
	return registry.Open(ctx, ro)
}
