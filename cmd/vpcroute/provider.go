package main

import (
	"context"
	"errors"

	"go.uber.org/zap"

	"github.com/vpcroute/vpcroute/cloud"
)

// newProvider builds the configured cloud provider.
func newProvider(ctx context.Context, o *options, p parsed, log *zap.Logger) (cloud.Provider, error) {
	return newProviderObserved(ctx, o, p, log, nil)
}

// newProviderObserved builds the provider the registry knows as
// --provider, telling obs about every API call. A setting the provider
// rejects is bad input: nothing was changed.
func newProviderObserved(ctx context.Context, o *options, p parsed, log *zap.Logger, obs cloud.CallObserver) (cloud.Provider, error) {
	build, ok := o.constructors[o.Provider]
	if !ok {
		return nil, usageError{o.registry.Check(o.Provider)}
	}
	prov, err := build(ctx, cloud.Settings{
		Endpoint: o.Endpoint, MetadataEndpoint: o.MetadataEndpoint,
		Region: o.Region, InstanceID: o.InstanceID, VPCID: o.VPCID, PrivateIP: p.privateIP,
		VPCCIDRs: p.vpcCIDRs, RouteTables: o.RouteTables,
		Cluster: o.ClusterName, ClusterCIDR: p.clusterCIDR,
		RetryTimeout: o.CloudRetryTimeout, Logger: log, Observer: obs,
	})
	if errors.Is(err, cloud.ErrInvalidSettings) {
		return nil, usageError{err}
	}
	return prov, err
}

// providerSpec is the registry's record of --provider; the zero Spec
// (no limit, no hints) when it names none.
func (o *options) providerSpec() cloud.Spec {
	s, _ := o.registry.Lookup(o.Provider)
	return s
}
