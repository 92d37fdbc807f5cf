package lab

import (
	"fmt"
	"net/netip"
	"time"

	"gopkg.in/yaml.v3"
)

// Fixed addressing of the lab, taken from the source document's two-host
// example: a 192.168.0.0/16 VPC with one vswitch, hosts from .196 upwards.
const (
	Region       = "cn-zhangjiakou"
	VPCID        = "vpc-lab"
	VPCCIDR      = "192.168.0.0/16"
	VSwitchID    = "vsw-lab"
	VSwitchCIDR  = "192.168.1.0/24"
	Zone         = "cn-zhangjiakou-a"
	RouteTableID = "vtb-lab"
	// RouterIP is the VPC router's address on the vswitch; the simulator
	// listens on it so every host reaches the API and the metadata.
	RouterIP = "192.168.1.253"
	// NATGatewayID is the next hop of the topology's unowned default route.
	NATGatewayID = "ngw-lab"
	// ClusterCIDR holds every host's bip; vpcroute manages routes inside it.
	ClusterCIDR = "10.0.0.0/8"
	// ClusterName marks the route entries vpcroute creates in the lab.
	ClusterName = "lab"
	// AccessKeyID is the simulator's lab credential (not a real account).
	AccessKeyID = "LTAI-lab"
	// accessKeySecret is never printed; it exists only inside the lab.
	accessKeySecret = "lab-secret"
	// MaxHosts bounds the lab: one instance letter per host (i-aaa … i-zzz).
	MaxHosts = 26

	firstHostOctet = 196
	vswitchBits    = 24
	// ContainerPort is where each container's httpd reports the peer address.
	ContainerPort = 8080
)

// HostPlan is the pure addressing of lab host i.
type HostPlan struct {
	// Index is the host's position, from 0.
	Index int
	// Name is a short label ("host0").
	Name string
	// InstanceID is the simulated ECS instance ("i-aaa" for host 0).
	InstanceID string
	// IP is the host's private address on the vswitch. The plan has no
	// bip: `vpcroute allocate` chooses it at boot (see Host.Bip).
	IP netip.Addr
	// ENI is the primary network interface on EC2 (see PlanAWSHost), the
	// target of the host's route there; empty on Alibaba.
	ENI string
}

// PlanHost returns the addresses of host i: 192.168.1.(196+i), instance
// i-aaa, i-bbb, …
func PlanHost(i int) (HostPlan, error) {
	if i < 0 || i >= MaxHosts {
		return HostPlan{}, fmt.Errorf("host index: %d (want 0 to %d)", i, MaxHosts-1)
	}
	letter := string(rune('a' + i))
	return HostPlan{
		Index:      i,
		Name:       fmt.Sprintf("host%d", i),
		InstanceID: "i-" + letter + letter + letter,
		IP:         netip.AddrFrom4([4]byte{192, 168, 1, byte(firstHostOctet + i)}),
	}, nil
}

// SimRoute is a route entry as the simulator's topology and admin API take it.
type SimRoute struct {
	Table       string `yaml:"-" json:"table,omitempty"`
	Destination string `yaml:"destination" json:"destination"`
	NextHopType string `yaml:"nextHopType" json:"nextHopType"`
	NextHopID   string `yaml:"nextHopId" json:"nextHopId"`
	Name        string `yaml:"name,omitempty" json:"name,omitempty"`
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
}

// InternetRoute is the unowned default route every lab table starts with,
// like a VPC with a NAT gateway.
var InternetRoute = SimRoute{
	Table: RouteTableID, Destination: "0.0.0.0/0",
	NextHopType: "NatGateway", NextHopID: NATGatewayID, Name: "internet",
}

// VPNRoute is an unowned entry for an office VPN range; tests and the demo
// put it in the table to show vpcroute leaves it alone.
var VPNRoute = SimRoute{
	Table: RouteTableID, Destination: "172.16.0.0/12",
	NextHopType: "VpnGateway", NextHopID: "vpn-lab", Name: "office-vpn",
	Description: "managed by the network team",
}

type simTopology struct {
	Region      string          `yaml:"region"`
	VPC         simVPC          `yaml:"vpc"`
	VSwitches   []simVSwitch    `yaml:"vswitches"`
	RouteTables []simRouteTable `yaml:"routeTables"`
	Instances   []simInstance   `yaml:"instances"`
	Credentials []simCredential `yaml:"credentials"`
	Behaviour   simBehaviour    `yaml:"behaviour"`
}

type simVPC struct {
	ID   string `yaml:"id"`
	CIDR string `yaml:"cidr"`
}

type simVSwitch struct {
	ID   string `yaml:"id"`
	CIDR string `yaml:"cidr"`
	Zone string `yaml:"zone"`
}

type simRouteTable struct {
	ID     string     `yaml:"id"`
	Routes []SimRoute `yaml:"routes"`
}

type simInstance struct {
	ID        string `yaml:"id"`
	PrivateIP string `yaml:"privateIp"`
	VSwitch   string `yaml:"vswitch"`
}

type simCredential struct {
	AccessKeyID     string `yaml:"accessKeyId"`
	AccessKeySecret string `yaml:"accessKeySecret"`
}

type simBehaviour struct {
	PendingDelay string `yaml:"pendingDelay"`
}

// SimTopology renders the simulator's topology YAML for hosts: one VPC, one
// vswitch, one route table holding the unowned internet route, one instance
// per host and the lab credential.
func SimTopology(hosts []HostPlan, pendingDelay time.Duration) ([]byte, error) {
	t := simTopology{
		Region:      Region,
		VPC:         simVPC{ID: VPCID, CIDR: VPCCIDR},
		VSwitches:   []simVSwitch{{ID: VSwitchID, CIDR: VSwitchCIDR, Zone: Zone}},
		RouteTables: []simRouteTable{{ID: RouteTableID, Routes: []SimRoute{InternetRoute}}},
		Credentials: []simCredential{{AccessKeyID: AccessKeyID, AccessKeySecret: accessKeySecret}},
		Behaviour:   simBehaviour{PendingDelay: pendingDelay.String()},
	}
	for _, h := range hosts {
		t.Instances = append(t.Instances, simInstance{ID: h.InstanceID, PrivateIP: h.IP.String(), VSwitch: VSwitchID})
	}
	out, err := yaml.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("render simulator topology: %w", err)
	}
	return out, nil
}
