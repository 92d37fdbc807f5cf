package sim

import (
	"encoding/json"
	"slices"
)

// The response types mirror services/ecs DescribeInstancesResponse.

type ipList struct {
	IPAddress []string `json:"IpAddress"`
}

type ecsInstanceItem struct {
	InstanceID          string `json:"InstanceId"`
	InstanceName        string `json:"InstanceName"`
	HostName            string `json:"HostName"`
	RegionID            string `json:"RegionId"`
	ZoneID              string `json:"ZoneId"`
	Status              string `json:"Status"`
	InstanceNetworkType string `json:"InstanceNetworkType"`
	CreationTime        string `json:"CreationTime"`
	VpcAttributes       struct {
		VpcID            string `json:"VpcId"`
		VSwitchID        string `json:"VSwitchId"`
		NatIPAddress     string `json:"NatIpAddress"`
		PrivateIPAddress ipList `json:"PrivateIpAddress"`
	} `json:"VpcAttributes"`
	InnerIPAddress  ipList `json:"InnerIpAddress"`
	PublicIPAddress ipList `json:"PublicIpAddress"`
	// NetworkInterfaces carries the primary ENI, as the real answer does.
	NetworkInterfaces struct {
		NetworkInterface []eniItem `json:"NetworkInterface"`
	} `json:"NetworkInterfaces"`
}

type eniItem struct {
	NetworkInterfaceID string `json:"NetworkInterfaceId"`
	MacAddress         string `json:"MacAddress"`
	PrimaryIPAddress   string `json:"PrimaryIpAddress"`
	Type               string `json:"Type"`
	VSwitchID          string `json:"VSwitchId"`
}

type describeInstancesResponse struct {
	base
	PageNumber int    `json:"PageNumber"`
	PageSize   int    `json:"PageSize"`
	TotalCount int    `json:"TotalCount"`
	NextToken  string `json:"NextToken"`
	Instances  struct {
		Instance []ecsInstanceItem `json:"Instance"`
	} `json:"Instances"`
}

// jsonList parses the JSON array strings ECS takes for InstanceIds and
// PrivateIpAddresses (["i-aaa","i-bbb"]).
func jsonList(p params, name string) ([]string, *apiError) {
	v := p.Get(name)
	if v == "" {
		return nil, nil
	}
	var out []string
	if err := json.Unmarshal([]byte(v), &out); err != nil || len(out) > 100 {
		code := CodeInvalidParameter
		if name == "InstanceIds" {
			code = CodeInstanceIDsMalformed
		}
		return nil, badRequest(code, "The parameter %s=%q is malformed: expected a JSON array of at most 100 strings, such as [\"i-aaa\"].", name, v)
	}
	return out, nil
}

func (s *Server) describeInstances(p params) (any, *apiError) {
	ids, aerr := jsonList(p, "InstanceIds")
	if aerr != nil {
		return nil, aerr
	}
	ips, aerr := jsonList(p, "PrivateIpAddresses")
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var items []ecsInstanceItem
	for _, in := range s.w.instances {
		if (ids != nil && !slices.Contains(ids, in.id)) || (ips != nil && !slices.Contains(ips, in.ip.String())) ||
			!match(p, "VpcId", in.vpc) || !match(p, "VSwitchId", in.vswitch) || !match(p, "Status", in.status) ||
			!match(p, "InstanceName", in.name) || !match(p, "ZoneId", s.w.vswitch(in.vswitch).zone) {
			continue
		}
		items = append(items, s.instanceItem(in))
	}
	resp := &describeInstancesResponse{}
	var lo, hi int
	if resp.PageNumber, resp.PageSize, lo, hi, aerr = p.page(len(items), 10, 100); aerr != nil {
		return nil, aerr
	}
	resp.TotalCount = len(items)
	resp.Instances.Instance = append([]ecsInstanceItem{}, items[lo:hi]...)
	return resp, nil
}

func (s *Server) instanceItem(in *instance) ecsInstanceItem {
	it := ecsInstanceItem{InstanceID: in.id, InstanceName: in.name, HostName: in.name, RegionID: s.w.region,
		ZoneID: s.w.vswitch(in.vswitch).zone, Status: in.status, InstanceNetworkType: "vpc",
		CreationTime: in.created.Format("2006-01-02T15:04Z")}
	it.VpcAttributes.VpcID = in.vpc
	it.VpcAttributes.VSwitchID = in.vswitch
	it.VpcAttributes.PrivateIPAddress.IPAddress = []string{in.ip.String()}
	it.InnerIPAddress.IPAddress = []string{}
	it.PublicIPAddress.IPAddress = []string{}
	it.NetworkInterfaces.NetworkInterface = append(it.NetworkInterfaces.NetworkInterface, eniItem{NetworkInterfaceID: "eni-" + in.id, MacAddress: in.mac, PrimaryIPAddress: in.ip.String(), Type: "Primary", VSwitchID: in.vswitch})
	return it
}
