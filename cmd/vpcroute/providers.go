package main

import (
	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/cloud/aliyun"
	"github.com/vpcroute/vpcroute/cloud/aws"
)

// defaultProvider is --provider unless given.
const defaultProvider = aliyun.Name

// providers is every cloud vpcroute can route in. Adding one is a new
// package under cloud/ with a Register function, and one line here.
func providers() *cloud.Registry {
	r := cloud.NewRegistry()
	aliyun.Register(r)
	aws.Register(r)
	return r
}
