package main

import (
	"context"
	"fmt"

	"go.uber.org/zap"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/cloud/aliyun"
	"github.com/vpcroute/vpcroute/cloud/aws"
)

// newProvider builds the configured cloud provider.
func newProvider(ctx context.Context, o *options, p parsed, log *zap.Logger) (cloud.Provider, error) {
	return newProviderObserved(ctx, o, p, log, nil)
}

// newProviderObserved builds the provider, telling obs about every API
// call. A setting the provider rejects is bad input: nothing was changed.
func newProviderObserved(ctx context.Context, o *options, p parsed, log *zap.Logger, obs cloud.CallObserver) (cloud.Provider, error) {
	switch o.Provider {
	case aws.Name:
		ao := aws.Options{
			Endpoint: o.Endpoint, MetadataEndpoint: o.MetadataEndpoint,
			Region: o.Region, InstanceID: o.InstanceID, VPCID: o.VPCID, PrivateIP: p.privateIP, NetworkInterfaceID: o.NetworkInterfaceID,
			VPCCIDRs: p.vpcCIDRs, RouteTables: o.RouteTables, RouteTableTag: o.RouteTableTag,
			Cluster: o.ClusterName, ClusterCIDR: p.clusterCIDR,
			MutatingRate: o.MutatingRate, MutatingBurst: o.MutatingBurst, RetryTimeout: o.CloudRetryTimeout,
			Logger: log, Observer: obs,
		}
		if err := ao.Validate(); err != nil {
			return nil, usageError{err}
		}
		return aws.New(ctx, ao)
	case aliyun.Name:
		ao := aliyun.Options{
			Endpoint: o.Endpoint, MetadataEndpoint: o.MetadataEndpoint,
			Region: o.Region, InstanceID: o.InstanceID, VPCID: o.VPCID, PrivateIP: p.privateIP,
			VPCCIDRs: p.vpcCIDRs, RouteTables: o.RouteTables, RAMRole: o.RAMRole, RetryTimeout: o.CloudRetryTimeout,
			Logger: log, Observer: obs,
		}
		if err := ao.Validate(); err != nil {
			return nil, usageError{err}
		}
		return aliyun.New(ctx, ao)
	}
	return nil, usageError{fmt.Errorf("provider %q is invalid: expected aliyun or aws", o.Provider)}
}
