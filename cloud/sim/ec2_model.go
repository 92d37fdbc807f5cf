package sim

import (
	"fmt"
	"hash/fnv"
	"maps"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"
)

// EC2 instance states (instance-state-name) and their codes.
const (
	EC2Pending      = "pending"
	EC2Running      = "running"
	EC2ShuttingDown = "shutting-down"
	EC2Terminated   = "terminated"
	EC2Stopping     = "stopping"
	EC2Stopped      = "stopped"
)

var ec2StateCodes = map[string]int{
	EC2Pending: 0, EC2Running: 16, EC2ShuttingDown: 32, EC2Terminated: 48, EC2Stopping: 64, EC2Stopped: 80,
}

// EC2 route states and origins.
const (
	RouteActive    = "active"
	RouteBlackhole = "blackhole"

	OriginCreateRouteTable = "CreateRouteTable"
	OriginCreateRoute      = "CreateRoute"
)

// EC2 route target kinds, as /sim/v1/routes shows them (nextHopType), with
// the CreateRoute parameter naming each and the XML element DescribeRouteTables
// answers it in. NetworkInterface and Instance routes carry the ENI.
const (
	HopNetworkInterface = "NetworkInterface"
	HopGateway          = "Gateway"
)

type ec2Target struct {
	param, hopType, xml string
}

var ec2Targets = []ec2Target{
	{"GatewayId", HopGateway, "gatewayId"},
	{"NatGatewayId", "NatGateway", "natGatewayId"},
	{"InstanceId", NextHopInstance, ""},
	{"NetworkInterfaceId", HopNetworkInterface, ""},
	{"VpcPeeringConnectionId", "VpcPeering", "vpcPeeringConnectionId"},
	{"TransitGatewayId", "TransitGateway", "transitGatewayId"},
	{"VpcEndpointId", "VpcEndpoint", "gatewayId"},
	{"EgressOnlyInternetGatewayId", "EgressOnlyInternetGateway", "egressOnlyInternetGatewayId"},
	{"LocalGatewayId", "LocalGateway", "localGatewayId"},
	{"CarrierGatewayId", "CarrierGateway", "carrierGatewayId"},
	{"CoreNetworkArn", "CoreNetwork", "coreNetworkArn"},
}

func ec2TargetByHop(hopType string) (ec2Target, bool) {
	for _, t := range ec2Targets {
		if t.hopType == hopType {
			return t, true
		}
	}
	return ec2Target{}, false
}

func ec2HopTypes() []string {
	out := make([]string, 0, len(ec2Targets))
	for _, t := range ec2Targets {
		out = append(out, t.hopType)
	}
	return out
}

// eni is an EC2 network interface.
type eni struct {
	id, mac, subnet, vpc, desc string
	ip                         netip.Addr
	instance                   string // attached instance; "" when detached
	deviceIndex                int
	attachmentID               string
	attached                   time.Time
	deleteOnTermination        bool
	sourceDestCheck            bool
	tags                       map[string]string
}

func (w *world) eni(id string) *eni {
	for _, n := range w.enis {
		if n.id == id {
			return n
		}
	}
	return nil
}

// enisOf returns the ENIs attached to an instance by device index.
func (w *world) enisOf(instanceID string) []*eni {
	var out []*eni
	for _, n := range w.enis {
		if n.instance == instanceID {
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].deviceIndex < out[j].deviceIndex })
	return out
}

// primaryENI is the ENI at device index 0, nil once the instance is
// terminated.
func (w *world) primaryENI(instanceID string) *eni {
	for _, n := range w.enis {
		if n.instance == instanceID && n.deviceIndex == 0 {
			return n
		}
	}
	return nil
}

// targetUp reports whether an instance in this state forwards traffic; EC2
// shows routes to a stopped or terminated instance as blackhole.
func targetUp(state string) bool {
	return state == EC2Running || state == EC2Pending
}

// refreshRouteStates derives the state of every ENI route from its target:
// active while the ENI exists and is attached to an instance that runs,
// blackhole otherwise. The instance the ENI was attached to is remembered
// so a blackhole route still names it. Other routes keep their state.
func (w *world) refreshRouteStates() {
	for _, t := range w.tables {
		for _, e := range t.entries {
			if e.eni == "" && e.hopType != NextHopInstance && e.hopType != HopNetworkInterface {
				continue
			}
			n := w.eni(e.eni)
			if n != nil && n.instance != "" {
				e.instRef = n.instance
			}
			state := RouteBlackhole
			if n != nil && n.instance != "" {
				if in := w.instance(n.instance); in != nil && targetUp(in.status) {
					state = RouteActive
				}
			}
			e.status = state
		}
	}
}

// routeInstance is the instanceId DescribeRouteTables shows for an ENI
// route: the ENI's instance, or the one it had before it was deleted.
func (w *world) routeInstance(e *entry) string {
	if e.eni == "" {
		return e.instRef
	}
	if n := w.eni(e.eni); n != nil {
		return n.instance
	}
	return e.instRef
}

// hashHex derives n stable hex digits from s.
func hashHex(s string, n int) string {
	h := fnv.New64a()
	_, _ = h.Write([]byte(s)) // hash.Hash writes never fail
	out := fmt.Sprintf("%016x", h.Sum64())
	for len(out) < n {
		h.Write([]byte(out))
		out += fmt.Sprintf("%016x", h.Sum64())
	}
	return out[:n]
}

// awsID builds an EC2-looking ID: prefix, '-', 17 hex digits.
func awsID(prefix, seed string) string { return prefix + "-0" + hashHex(prefix+"/"+seed, 16) }

// awsMAC derives a locally administered MAC (02:...) from an ENI ID.
func awsMAC(id string) string {
	h := hashHex(id, 10)
	return "02:" + h[0:2] + ":" + h[2:4] + ":" + h[4:6] + ":" + h[6:8] + ":" + h[8:10]
}

// awsPrefixes are the ID prefixes EC2 uses, by resource kind.
var awsPrefixes = map[string]string{
	"vpc": "vpc-", "subnet": "subnet-", "table": "rtb-", "instance": "i-", "eni": "eni-",
}

// checkKindID validates an ID and the prefix its cloud gives its kind.
func (w *world) checkKindID(field, value, kind string) error {
	if err := checkID(field, value); err != nil {
		return err
	}
	if p := w.d.idPrefix(kind); !strings.HasPrefix(value, p) {
		return paramError(field, value, "an ID starting with "+p)
	}
	return nil
}

// checkTags validates tags as EC2 does: keys 1-128 characters, not starting
// with aws:, values up to 256.
func checkTags(field string, tags map[string]string) error {
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		if k == "" || len(k) > 128 || strings.HasPrefix(strings.ToLower(k), "aws:") {
			return paramError(field, k, "a tag key of 1-128 characters not starting with aws:")
		}
		if len(tags[k]) > 256 {
			return paramError(field+"."+k, tags[k], "a tag value of at most 256 characters")
		}
	}
	return nil
}

func cloneTags(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	maps.Copy(out, m)
	return out
}

// vpcCIDRs returns the primary and secondary CIDRs of a VPC.
func (v *vpcNet) cidrs() []netip.Prefix {
	return append([]netip.Prefix{v.cidr}, v.secondary...)
}
