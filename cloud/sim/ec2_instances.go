package sim

import (
	"encoding/xml"
	"strconv"
	"strings"
)

// DescribeInstances. Element names follow
// aws-sdk-go-v2's service/ec2 deserializers (Reservation, Instance,
// InstanceNetworkInterface, NetworkInterface, NetworkInterfaceAttachment).

const ec2TimeFormat = "2006-01-02T15:04:05.000Z"

type ec2InstanceState struct {
	Code int    `xml:"code"`
	Name string `xml:"name"`
}

type ec2Placement struct {
	AvailabilityZone string `xml:"availabilityZone"`
	Tenancy          string `xml:"tenancy"`
}

type ec2IAMProfile struct {
	Arn string `xml:"arn"`
	ID  string `xml:"id"`
}

type ec2Instance struct {
	InstanceID         string           `xml:"instanceId"`
	ImageID            string           `xml:"imageId"`
	State              ec2InstanceState `xml:"instanceState"`
	PrivateDNSName     string           `xml:"privateDnsName"`
	DNSName            string           `xml:"dnsName"`
	Reason             string           `xml:"reason"`
	AmiLaunchIndex     int              `xml:"amiLaunchIndex"`
	InstanceType       string           `xml:"instanceType"`
	LaunchTime         string           `xml:"launchTime"`
	Placement          ec2Placement     `xml:"placement"`
	SubnetID           string           `xml:"subnetId,omitempty"`
	VpcID              string           `xml:"vpcId,omitempty"`
	PrivateIPAddress   string           `xml:"privateIpAddress,omitempty"`
	SourceDestCheck    *bool            `xml:"sourceDestCheck,omitempty"`
	Architecture       string           `xml:"architecture"`
	RootDeviceType     string           `xml:"rootDeviceType"`
	NetworkInterfaces  []ec2ENI         `xml:"networkInterfaceSet>item"`
	IAMInstanceProfile *ec2IAMProfile   `xml:"iamInstanceProfile,omitempty"`
	Tags               []ec2Tag         `xml:"tagSet>item"`
}

type ec2Reservation struct {
	ReservationID string        `xml:"reservationId"`
	OwnerID       string        `xml:"ownerId"`
	Instances     []ec2Instance `xml:"instancesSet>item"`
}

type ec2DescribeInstancesResponse struct {
	XMLName xml.Name `xml:"http://ec2.amazonaws.com/doc/2016-11-15/ DescribeInstancesResponse"`
	ec2Base
	Reservations []ec2Reservation `xml:"reservationSet>item"`
	NextToken    string           `xml:"nextToken,omitempty"`
}

var instanceFilters = append([]string{"instance-id", "instance-state-name", "instance-state-code", "vpc-id", "subnet-id",
	"private-ip-address", "network-interface.network-interface-id", "network-interface.mac-address", "availability-zone",
	"instance-type", "owner-id", "iam-instance-profile.arn"}, tagFilterNames...)

// privateDNS is EC2's private host name for an address.
func (w *world) privateDNS(ip string) string {
	if ip == "" {
		return ""
	}
	return "ip-" + strings.ReplaceAll(ip, ".", "-") + "." + w.region + ".compute.internal"
}

// instanceTags are the instance's tags, with Name from the spec's name.
func instanceTags(in *instance) map[string]string {
	tags := cloneTags(in.tags)
	if _, ok := tags["Name"]; !ok && in.name != "" {
		tags["Name"] = in.name
	}
	return tags
}

// instanceItem renders an instance. Callers hold s.mu.
func (w *world) ec2InstanceItem(in *instance) ec2Instance {
	sub := w.vswitch(in.vswitch)
	it := ec2Instance{InstanceID: in.id, ImageID: "ami-0" + hashHex("ami", 16),
		State:        ec2InstanceState{Code: ec2StateCodes[in.status], Name: in.status},
		InstanceType: in.instanceType, LaunchTime: in.created.Format(ec2TimeFormat),
		Placement:    ec2Placement{AvailabilityZone: sub.zone, Tenancy: "default"},
		Architecture: "x86_64", RootDeviceType: "ebs", Tags: tagSet(instanceTags(in))}
	if in.ramRole != "" {
		it.IAMInstanceProfile = &ec2IAMProfile{Arn: "arn:aws:iam::" + w.account + ":instance-profile/" + in.ramRole,
			ID: "AIPA" + strings.ToUpper(hashHex("profile/"+in.ramRole, 17))}
	}
	if in.status == EC2Terminated {
		it.Reason = "User initiated"
		return it
	}
	it.SubnetID, it.VpcID = in.vswitch, in.vpc
	it.PrivateIPAddress, it.PrivateDNSName = in.ip.String(), w.privateDNS(in.ip.String())
	for _, n := range w.enisOf(in.id) {
		it.NetworkInterfaces = append(it.NetworkInterfaces, w.eniItem(n, true))
	}
	if p := w.primaryENI(in.id); p != nil {
		sdc := p.sourceDestCheck
		it.SourceDestCheck = &sdc
	}
	return it
}

func (s *Server) ec2DescribeInstances(p params) (any, *apiError) {
	q, aerr := p.ec2Select("InstanceId", instanceFilters)
	if aerr != nil {
		return nil, aerr
	}
	if len(q.ids) > 0 && p.Get("MaxResults") != "" {
		return nil, ec2Err(CodeInvalidParameterCombination, "The parameter instancesSet cannot be used with the parameter maxResults")
	}
	for _, id := range q.ids {
		if !strings.HasPrefix(id, "i-") {
			return nil, ec2Err("InvalidInstanceID.Malformed", "Invalid id: %q (expecting \"i-...\")", id)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if aerr := q.checkIDs(func(id string) bool { return s.w.instance(id) != nil }, CodeEC2InstanceNotFound, "instance"); aerr != nil {
		return nil, aerr
	}
	var items []ec2Reservation
	for _, in := range s.w.instances {
		it := s.w.ec2InstanceItem(in)
		values := func(name string) []string {
			switch name {
			case "instance-id":
				return []string{in.id}
			case "instance-state-name":
				return []string{in.status}
			case "instance-state-code":
				return []string{strconv.Itoa(it.State.Code)}
			case "vpc-id":
				return []string{it.VpcID}
			case "subnet-id":
				return []string{it.SubnetID}
			case "private-ip-address":
				return []string{it.PrivateIPAddress}
			case "network-interface.network-interface-id":
				return collect(it.NetworkInterfaces, func(n ec2ENI) string { return n.NetworkInterfaceID })
			case "network-interface.mac-address":
				return collect(it.NetworkInterfaces, func(n ec2ENI) string { return n.MacAddress })
			case "availability-zone":
				return []string{it.Placement.AvailabilityZone}
			case "instance-type":
				return []string{in.instanceType}
			case "owner-id":
				return []string{s.w.account}
			case "iam-instance-profile.arn":
				if it.IAMInstanceProfile != nil {
					return []string{it.IAMInstanceProfile.Arn}
				}
			}
			return nil
		}
		if !q.selects(in.id, instanceTags(in), values) {
			continue
		}
		items = append(items, ec2Reservation{ReservationID: "r-0" + hashHex("r/"+in.id, 16), OwnerID: s.w.account, Instances: []ec2Instance{it}})
	}
	page, next, aerr := ec2Page(p, items, 1000)
	if aerr != nil {
		return nil, aerr
	}
	return &ec2DescribeInstancesResponse{Reservations: page, NextToken: next}, nil
}
