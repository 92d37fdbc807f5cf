package lab

import (
	"fmt"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/vpcroute/vpcroute/cloud/sim"
)

// Fixed IDs of the lab on EC2: the same addressing as on Alibaba (VPC
// 192.168.0.0/16, subnet 192.168.1.0/24, hosts from .196), EC2-shaped IDs.
const (
	AWSRegion   = "eu-west-1"
	AWSZone     = "eu-west-1a"
	AWSAccount  = "123456789012"
	AWSVPCID    = "vpc-0a1b2c3d4e5f60001"
	AWSSubnetID = "subnet-0a1b2c3d4e5f60001"
	// AWSRouteTableID is the subnet's (main) route table, tagged
	// vpcroute:cluster=lab: the one table vpcroute manages with
	// --route-table-tag.
	AWSRouteTableID = "rtb-0a1b2c3d4e5f60001"
	// AWSOtherTableID is a second table of the VPC, not tagged for the
	// cluster (another team's): vpcroute must never write there.
	AWSOtherTableID = "rtb-0a1b2c3d4e5f60002"
	// AWSRole is the instance role every lab host has; the daemons take
	// their credentials from it through IMDSv2, as on a real EC2 host.
	AWSRole = "vpcroute-node"
	// AWSAccessKeyID is the simulator's static key, used only by the lab
	// itself to read EC2 state (never given to vpcroute).
	AWSAccessKeyID = "AKIASIMULATORLAB0001"
	// awsSecretKey is never printed; it exists only inside the lab.
	awsSecretKey = "lab-aws-secret"
	// TagKey is the tag vpcroute puts on each host's ENI and looks for on
	// route tables with --route-table-tag.
	TagKey = "vpcroute:cluster"
)

// Route targets and states as the simulator's admin API shows them.
const (
	hopInstance         = "Instance"
	hopNetworkInterface = "NetworkInterface"
	statusAvailable     = "Available" // Alibaba: the entry forwards
	statusActive        = "active"    // EC2: the route forwards
	// StatusBlackhole is an EC2 route whose target is gone.
	StatusBlackhole = "blackhole"
)

// The unowned routes of the EC2 lab's managed table. The first three are
// the ones every real VPC has; the last two lie inside the cluster CIDR,
// the most tempting for a buggy reconciler to take over or "clean up".
var (
	// AWSInternetRoute is the default route to the internet gateway.
	AWSInternetRoute = SimRoute{Table: AWSRouteTableID, Destination: "0.0.0.0/0", NextHopType: "Gateway", NextHopID: "igw-0a1b2c3d4e5f60001"}
	// AWSPeeringRoute sends a peered VPC's range over the peering.
	AWSPeeringRoute = SimRoute{Table: AWSRouteTableID, Destination: "172.16.0.0/16", NextHopType: "VpcPeering", NextHopID: "pcx-0a1b2c3d4e5f60001"}
	// AWSEndpointRoute is an S3 gateway endpoint: a prefix list as its
	// destination, no destination CIDR.
	AWSEndpointRoute = SimRoute{Table: AWSRouteTableID, Destination: "pl-6da54004", NextHopType: "Gateway", NextHopID: "vpce-0a1b2c3d4e5f60001"}
	// AWSTransitRoute is an on-premises range inside the cluster CIDR
	// behind a transit gateway: made by CreateRoute, but not to an ENI.
	AWSTransitRoute = SimRoute{Table: AWSRouteTableID, Destination: "10.99.0.0/24", NextHopType: "TransitGateway", NextHopID: "tgw-0a1b2c3d4e5f60001"}
	// AWSDeadNATRoute is a blackhole inside the cluster CIDR whose NAT
	// gateway was deleted: blackhole, but not vpcroute's to clean.
	AWSDeadNATRoute = SimRoute{Table: AWSRouteTableID, Destination: "10.98.0.0/24", NextHopType: "NatGateway", NextHopID: "nat-0a1b2c3d4e5f60001"}
	// AWSOtherTableRoute is the only route of the untagged second table.
	AWSOtherTableRoute = SimRoute{Table: AWSOtherTableID, Destination: "0.0.0.0/0", NextHopType: "NatGateway", NextHopID: "nat-0a1b2c3d4e5f60002"}
)

// AWSUnownedRoutes are every unowned route the EC2 lab starts with.
var AWSUnownedRoutes = []SimRoute{AWSInternetRoute, AWSPeeringRoute, AWSEndpointRoute, AWSTransitRoute, AWSDeadNATRoute, AWSOtherTableRoute}

// PlanAWSHost returns the addresses of host i on EC2: those of PlanHost(i)
// with EC2 IDs, instance i-0aaaaaaaaaaaaaaaa and primary ENI
// eni-0aaaaaaaaaaaaaaaa for host 0, i-0bbb… for host 1, …
func PlanAWSHost(i int) (HostPlan, error) {
	p, err := PlanHost(i)
	if err != nil {
		return p, err
	}
	id := "0" + strings.Repeat(string(rune('a'+i)), 16)
	p.InstanceID, p.ENI = "i-"+id, "eni-"+id
	return p, nil
}

// RouteTarget is what host h's route must point at, and the state in which
// it forwards: "Instance i-aaa Available" on Alibaba, "NetworkInterface
// eni-0aaa… active" on EC2.
func (p HostPlan) RouteTarget() (hopType, hopID, forwarding string) {
	if p.ENI != "" {
		return hopNetworkInterface, p.ENI, statusActive
	}
	return hopInstance, p.InstanceID, statusAvailable
}

// Target names the host's route target for people: "i-aaa", or on EC2
// "eni-0aaa… (i-0aaa…)".
func (p HostPlan) Target() string {
	if p.ENI != "" {
		return fmt.Sprintf("%s (%s)", p.ENI, p.InstanceID)
	}
	return p.InstanceID
}

// AWSSimTopology renders the simulator's topology YAML for hosts on EC2:
// one VPC with one subnet; its main route table tagged for the cluster and
// holding the unowned routes (internet gateway, peering, S3 endpoint, a
// transit gateway range and a dead NAT gateway's blackhole inside the
// cluster CIDR); a second, untagged table; one instance per host with its
// primary ENI (source/destination check on, untagged, as EC2 launches it)
// and the instance role; the lab's static key; EC2's route limit and
// request token buckets.
func AWSSimTopology(hosts []HostPlan) ([]byte, error) {
	main := sim.RouteTableSpec{ID: AWSRouteTableID, Main: true, Tags: map[string]string{"Name": "lab-main", TagKey: ClusterName}}
	other := sim.RouteTableSpec{ID: AWSOtherTableID, Tags: map[string]string{"Name": "other-team"}}
	for _, r := range AWSUnownedRoutes {
		rs := sim.RouteSpec{Destination: r.Destination, NextHopType: r.NextHopType, NextHopID: r.NextHopID}
		if strings.HasPrefix(r.Destination, "pl-") {
			rs.Destination, rs.DestinationPrefixListID = "", r.Destination
		}
		if r == AWSDeadNATRoute {
			rs.State = StatusBlackhole
		}
		if r.Table == AWSOtherTableID {
			other.Routes = append(other.Routes, rs)
		} else {
			main.Routes = append(main.Routes, rs)
		}
	}
	t := sim.Topology{
		Provider:    sim.ProviderAWS,
		AccountID:   AWSAccount,
		Region:      AWSRegion,
		VPC:         &sim.VPCSpec{ID: AWSVPCID, CIDR: VPCCIDR, Tags: map[string]string{"Name": "lab"}},
		Subnets:     []sim.VSwitchSpec{{ID: AWSSubnetID, CIDR: VSwitchCIDR, Zone: AWSZone, Tags: map[string]string{"Name": "lab"}}},
		RouteTables: []sim.RouteTableSpec{main, other},
		Credentials: []sim.CredentialSpec{{AccessKeyID: AWSAccessKeyID, AccessKeySecret: awsSecretKey}},
		Behaviour: sim.Behaviour{
			Quota:    sim.DefaultAWSQuota,
			Throttle: sim.ThrottleSpec{Reads: sim.EC2DescribeBucket, Writes: sim.EC2MutatingBucket},
		},
	}
	for _, h := range hosts {
		t.Instances = append(t.Instances, awsInstanceSpec(h))
	}
	out, err := yaml.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("render simulator topology: %w", err)
	}
	return out, nil
}

// awsInstanceSpec is host h as an EC2 instance of the simulator.
func awsInstanceSpec(h HostPlan) sim.InstanceSpec {
	return sim.InstanceSpec{ID: h.InstanceID, PrivateIP: h.IP.String(), Subnet: AWSSubnetID, ENI: h.ENI, IAMRole: AWSRole, Name: h.Name}
}

// awsVpcrouteEnv is the environment of a vpcroute run on EC2: no
// credentials at all (the SDK's default chain ends at the instance role,
// read from the simulator's IMDSv2), no shared config or credentials file,
// and every AWS endpoint, metadata included, pointing at the simulator, so
// that even a code path that ignored --endpoint and --metadata-endpoint
// could reach nothing but the simulator.
func awsVpcrouteEnv(endpoint string) []string {
	return []string{
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_EC2_METADATA_SERVICE_ENDPOINT=" + endpoint,
		"AWS_ENDPOINT_URL=" + endpoint,
		"AWS_ENDPOINT_URL_EC2=" + endpoint,
	}
}

// awsCloud is AWS: EC2 routes to each host's primary ENI, whose
// source/destination check the daemon turns off; the daemons' only
// credentials are their instance role, read from IMDSv2 (see
// AWSSimTopology for the world).
type awsCloud struct{}

func (awsCloud) Name() string { return ProviderAWS }

func (awsCloud) Title() string { return "AWS EC2" }

func (awsCloud) Summary() string { return "EC2 routes to each instance's ENI" }

func (awsCloud) SourceDestCheck() bool { return true }

// DemoRoutes: none; the EC2 topology has its own unowned routes.
func (awsCloud) DemoRoutes() []SimRoute { return nil }

func (awsCloud) DescribeNetwork(etcd string) []string {
	return []string{
		fmt.Sprintf("VPC %s, subnet %s. The VPC router %s runs vpcroute-sim (the EC2 API and IMDSv2; its route", VPCCIDR, VSwitchCIDR, RouterIP),
		"table becomes the router's kernel routes, so it really moves packets, and it drops what EC2's",
		fmt.Sprintf("source/destination check would drop) and etcd at %s, where the daemons register their hosts", etcd),
		"and elect a leader. The daemons' only credentials are their instance role, read from IMDSv2.",
	}
}

func (awsCloud) DaemonDuties() []string {
	return []string{
		fmt.Sprintf("On EC2 it also tags its ENI %s=%s and turns the ENI's source/destination check off:", TagKey, ClusterName),
		"with the check on, EC2 drops every forwarded packet, i.e. all container traffic.",
	}
}

// EntryLine: two tables, and EC2 routes carry no name.
func (awsCloud) EntryLine(e SimEntry) string {
	return fmt.Sprintf("%-22s %-16s -> %-16s %-22s %s", e.Table, e.Destination, e.NextHopType, e.NextHopID, e.Status)
}

func (awsCloud) planHost(i int) (HostPlan, error) { return PlanAWSHost(i) }

func (awsCloud) simTopology(hosts []HostPlan, _ time.Duration) ([]byte, error) {
	return AWSSimTopology(hosts)
}

// simArgs: none; EC2 route changes are synchronous.
func (awsCloud) simArgs(time.Duration) []string { return nil }

func (awsCloud) simInstance(h HostPlan) any { return awsInstanceSpec(h) }

func (awsCloud) routeTableID() string { return AWSRouteTableID }

// vpcrouteFlags: only the table tagged for the cluster; the VPC's other
// table is another team's.
func (awsCloud) vpcrouteFlags() []string { return []string{"--route-table-tag"} }

func (awsCloud) vpcrouteEnv(simEndpoint string) []string { return awsVpcrouteEnv(simEndpoint) }
