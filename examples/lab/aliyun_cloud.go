package lab

import (
	"fmt"
	"time"
)

// aliyunCloud is Alibaba Cloud: VPC route entries to ECS instances, which
// stay Pending for the simulator's pending delay; the daemons use the lab's
// access key (see SimTopology for the world).
type aliyunCloud struct{}

func (aliyunCloud) Name() string { return ProviderAliyun }

func (aliyunCloud) Title() string { return "Alibaba Cloud" }

func (aliyunCloud) Summary() string { return "VPC route entries to ECS instances" }

func (aliyunCloud) SourceDestCheck() bool { return false }

// DemoRoutes: the office VPN entry, an unowned route the topology lacks.
func (aliyunCloud) DemoRoutes() []SimRoute { return []SimRoute{VPNRoute} }

func (aliyunCloud) DescribeNetwork(etcd string) []string {
	return []string{
		fmt.Sprintf("VPC %s, vswitch %s. The VPC router %s runs vpcroute-sim (the cloud's API and metadata;", VPCCIDR, VSwitchCIDR, RouterIP),
		"its route table becomes the router's kernel routes, so it really moves packets) and etcd",
		fmt.Sprintf("at %s, where the daemons register their hosts and elect a leader.", etcd),
	}
}

func (aliyunCloud) DaemonDuties() []string { return nil }

// EntryLine: one table, and entries carry a name or a description.
func (aliyunCloud) EntryLine(e SimEntry) string {
	label := e.Name
	if label == "" {
		label = e.Description
	}
	return fmt.Sprintf("%-16s -> %-10s %-8s %-10s %s", e.Destination, e.NextHopType, e.NextHopID, e.Status, label)
}

func (aliyunCloud) planHost(i int) (HostPlan, error) { return PlanHost(i) }

func (aliyunCloud) simTopology(hosts []HostPlan, pendingDelay time.Duration) ([]byte, error) {
	return SimTopology(hosts, pendingDelay)
}

// simArgs: new entries stay Pending for the lab's delay.
func (aliyunCloud) simArgs(pendingDelay time.Duration) []string {
	return []string{"--pending-delay", pendingDelay.String()}
}

func (aliyunCloud) simInstance(h HostPlan) any {
	return map[string]string{"id": h.InstanceID, "privateIp": h.IP.String(), "vswitch": VSwitchID}
}

func (aliyunCloud) routeTableID() string { return RouteTableID }

func (aliyunCloud) vpcrouteFlags() []string { return nil }

// vpcrouteEnv: the lab's access key.
func (aliyunCloud) vpcrouteEnv(string) []string {
	return []string{
		"ALIBABA_CLOUD_ACCESS_KEY_ID=" + AccessKeyID,
		"ALIBABA_CLOUD_ACCESS_KEY_SECRET=" + accessKeySecret,
	}
}
