package lab

import (
	"fmt"
	"strings"
	"time"
)

// The clouds a lab can simulate (Config.Provider).
const (
	// ProviderAliyun is Alibaba Cloud: VPC route entries to ECS instances.
	ProviderAliyun = "aliyun"
	// ProviderAWS is AWS: EC2 routes to each instance's primary ENI.
	ProviderAWS = "aws"
)

// Cloud is one cloud the lab can simulate (Config.Provider): everything
// the lab and the demo do differently per cloud. The exported methods are
// the demo's; the others the lab's own. Each cloud has one implementation
// in its own file (aliyun_cloud.go, aws_cloud.go), listed in clouds.
type Cloud interface {
	// Name is the Config.Provider value (and vpcroute's --provider).
	Name() string
	// Title names the cloud for people ("Alibaba Cloud").
	Title() string
	// Summary says in a few words what vpcroute writes there ("VPC route
	// entries to ECS instances").
	Summary() string
	// SourceDestCheck reports whether each host has a network interface
	// with a source/destination check that drops forwarded packets until
	// vpcroute turns it off; the lab then enforces it (see srcdst.go).
	SourceDestCheck() bool
	// DemoRoutes are the unowned routes the demo adds to those the
	// simulator's topology starts with.
	DemoRoutes() []SimRoute
	// DescribeNetwork is the demo's description of the lab's network,
	// one line a slice element; etcd is etcd's endpoint.
	DescribeNetwork(etcd string) []string
	// DaemonDuties are the demo's lines on what the daemon does beyond
	// the iptables rules and the registration (none: empty).
	DaemonDuties() []string
	// EntryLine is one non-system route for the demo's table.
	EntryLine(e SimEntry) string

	// planHost returns the addresses and IDs of host i.
	planHost(i int) (HostPlan, error)
	// simTopology renders the simulator's topology YAML for hosts.
	simTopology(hosts []HostPlan, pendingDelay time.Duration) ([]byte, error)
	// simArgs are vpcroute-sim's extra flags.
	simArgs(pendingDelay time.Duration) []string
	// simInstance is host h as POST /sim/v1/instances takes it.
	simInstance(h HostPlan) any
	// routeTableID is the table the hosts' routes live in.
	routeTableID() string
	// vpcrouteFlags are vpcroute's extra flags on this cloud.
	vpcrouteFlags() []string
	// vpcrouteEnv is vpcroute's cloud environment: credentials or none,
	// endpoints; simEndpoint is the simulator's URL.
	vpcrouteEnv(simEndpoint string) []string
}

// clouds are the clouds a lab can simulate; the first is the default
// (Config.withDefaults).
var clouds = []Cloud{aliyunCloud{}, awsCloud{}}

// CloudFor returns the cloud of a Config.Provider value.
func CloudFor(provider string) (Cloud, error) {
	for _, c := range clouds {
		if c.Name() == provider {
			return c, nil
		}
	}
	return nil, fmt.Errorf("provider: %q (want %s)", provider, CloudNames())
}

// CloudNames lists the clouds' names for a message: "aliyun or aws".
func CloudNames() string {
	names := make([]string, len(clouds))
	for i, c := range clouds {
		names[i] = c.Name()
	}
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// Clouds returns every cloud a lab can simulate, the default first.
func Clouds() []Cloud { return append([]Cloud(nil), clouds...) }

// Cloud is the cloud the lab simulates.
func (l *Lab) Cloud() Cloud { return l.cloud }

// Provider is the cloud the lab simulates (ProviderAliyun or ProviderAWS).
func (l *Lab) Provider() string { return l.cfg.Provider }

// RouteTableID is the table the lab's routes live in: vtb-lab on Alibaba,
// AWSRouteTableID on EC2.
func (l *Lab) RouteTableID() string { return l.cloud.routeTableID() }

// simTopology renders the simulator's topology for the lab's cloud.
func (l *Lab) simTopology(hosts []HostPlan) ([]byte, error) {
	return l.cloud.simTopology(hosts, l.cfg.PendingDelay)
}
