package sim

import (
	"encoding/xml"
	"strconv"
	"strings"
)

// Network interfaces: DescribeNetworkInterfaces,
// DescribeNetworkInterfaceAttribute and ModifyNetworkInterfaceAttribute,
// and the ENI items DescribeInstances embeds.

type ec2Attachment struct {
	AttachmentID        string `xml:"attachmentId"`
	InstanceID          string `xml:"instanceId,omitempty"`
	InstanceOwnerID     string `xml:"instanceOwnerId,omitempty"`
	DeviceIndex         int    `xml:"deviceIndex"`
	NetworkCardIndex    int    `xml:"networkCardIndex"`
	Status              string `xml:"status"`
	AttachTime          string `xml:"attachTime"`
	DeleteOnTermination bool   `xml:"deleteOnTermination"`
}

type ec2PrivateIP struct {
	PrivateIPAddress string `xml:"privateIpAddress"`
	PrivateDNSName   string `xml:"privateDnsName"`
	Primary          bool   `xml:"primary"`
}

// ec2ENI serves both InstanceNetworkInterface (inside an instance, no tags
// or zone) and NetworkInterface (DescribeNetworkInterfaces).
type ec2ENI struct {
	NetworkInterfaceID string         `xml:"networkInterfaceId"`
	SubnetID           string         `xml:"subnetId"`
	VpcID              string         `xml:"vpcId"`
	AvailabilityZone   string         `xml:"availabilityZone,omitempty"`
	Description        string         `xml:"description"`
	OwnerID            string         `xml:"ownerId"`
	RequesterManaged   *bool          `xml:"requesterManaged,omitempty"`
	Status             string         `xml:"status"`
	MacAddress         string         `xml:"macAddress"`
	PrivateIPAddress   string         `xml:"privateIpAddress"`
	PrivateDNSName     string         `xml:"privateDnsName"`
	SourceDestCheck    bool           `xml:"sourceDestCheck"`
	InterfaceType      string         `xml:"interfaceType"`
	Attachment         *ec2Attachment `xml:"attachment,omitempty"`
	PrivateIPs         []ec2PrivateIP `xml:"privateIpAddressesSet>item"`
	Tags               *ec2TagSet     `xml:"tagSet,omitempty"` // absent inside an instance
}

type ec2TagSet struct {
	Items []ec2Tag `xml:"item"`
}

// eniItem renders an ENI; inInstance leaves out what
// InstanceNetworkInterface does not carry. Callers hold s.mu.
func (w *world) eniItem(n *eni, inInstance bool) ec2ENI {
	no := false
	it := ec2ENI{NetworkInterfaceID: n.id, SubnetID: n.subnet, VpcID: n.vpc, Description: n.desc, OwnerID: w.account,
		Status: "available", MacAddress: n.mac, PrivateIPAddress: n.ip.String(), PrivateDNSName: w.privateDNS(n.ip.String()),
		SourceDestCheck: n.sourceDestCheck, InterfaceType: "interface",
		PrivateIPs: []ec2PrivateIP{{PrivateIPAddress: n.ip.String(), PrivateDNSName: w.privateDNS(n.ip.String()), Primary: true}}}
	if n.instance != "" {
		it.Status = "in-use"
		it.Attachment = &ec2Attachment{AttachmentID: n.attachmentID, DeviceIndex: n.deviceIndex, Status: "attached",
			AttachTime: n.attached.Format(ec2TimeFormat), DeleteOnTermination: n.deleteOnTermination}
	}
	if !inInstance {
		it.AvailabilityZone = w.vswitch(n.subnet).zone
		it.RequesterManaged = &no
		it.Tags = &ec2TagSet{Items: tagSet(n.tags)}
		if it.Attachment != nil {
			it.Attachment.InstanceID, it.Attachment.InstanceOwnerID = n.instance, w.account
		}
	}
	return it
}

type ec2DescribeENIsResponse struct {
	XMLName xml.Name `xml:"http://ec2.amazonaws.com/doc/2016-11-15/ DescribeNetworkInterfacesResponse"`
	ec2Base
	NetworkInterfaces []ec2ENI `xml:"networkInterfaceSet>item"`
	NextToken         string   `xml:"nextToken,omitempty"`
}

var eniFilters = append([]string{"network-interface-id", "attachment.instance-id", "attachment.instance-owner-id",
	"attachment.device-index", "attachment.status", "attachment.attachment-id", "attachment.delete-on-termination",
	"vpc-id", "subnet-id", "private-ip-address", "addresses.private-ip-address", "mac-address", "status",
	"source-dest-check", "availability-zone", "owner-id", "description", "interface-type"}, tagFilterNames...)

func (s *Server) ec2DescribeNetworkInterfaces(p params) (any, *apiError) {
	q, aerr := p.ec2Select("NetworkInterfaceId", eniFilters)
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if aerr := q.checkIDs(func(id string) bool { return s.w.eni(id) != nil }, CodeENINotFound, "networkInterface"); aerr != nil {
		return nil, aerr
	}
	var items []ec2ENI
	for _, n := range s.w.enis {
		it := s.w.eniItem(n, false)
		values := func(name string) []string {
			att := it.Attachment
			if att == nil {
				att = &ec2Attachment{}
			}
			switch name {
			case "network-interface-id":
				return []string{n.id}
			case "attachment.instance-id":
				return []string{att.InstanceID}
			case "attachment.instance-owner-id":
				return []string{att.InstanceOwnerID}
			case "attachment.device-index":
				if it.Attachment != nil {
					return []string{strconv.Itoa(att.DeviceIndex)}
				}
			case "attachment.status":
				return []string{att.Status}
			case "attachment.attachment-id":
				return []string{att.AttachmentID}
			case "attachment.delete-on-termination":
				return []string{strconv.FormatBool(att.DeleteOnTermination)}
			case "vpc-id":
				return []string{n.vpc}
			case "subnet-id":
				return []string{n.subnet}
			case "private-ip-address", "addresses.private-ip-address":
				return []string{n.ip.String()}
			case "mac-address":
				return []string{n.mac}
			case "status":
				return []string{it.Status}
			case "source-dest-check":
				return []string{strconv.FormatBool(n.sourceDestCheck)}
			case "availability-zone":
				return []string{it.AvailabilityZone}
			case "owner-id":
				return []string{s.w.account}
			case "description":
				return []string{n.desc}
			case "interface-type":
				return []string{"interface"}
			}
			return nil
		}
		if !q.selects(n.id, n.tags, values) {
			continue
		}
		items = append(items, it)
	}
	page, next, aerr := ec2Page(p, items, 1000)
	if aerr != nil {
		return nil, aerr
	}
	return &ec2DescribeENIsResponse{NetworkInterfaces: page, NextToken: next}, nil
}

type ec2BoolValue struct {
	Value bool `xml:"value"`
}

type ec2StringValue struct {
	Value string `xml:"value"`
}

type ec2ENIAttributeResponse struct {
	XMLName xml.Name `xml:"http://ec2.amazonaws.com/doc/2016-11-15/ DescribeNetworkInterfaceAttributeResponse"`
	ec2Base
	NetworkInterfaceID       string          `xml:"networkInterfaceId"`
	SourceDestCheck          *ec2BoolValue   `xml:"sourceDestCheck,omitempty"`
	Description              *ec2StringValue `xml:"description,omitempty"`
	Attachment               *ec2Attachment  `xml:"attachment,omitempty"`
	GroupSet                 *struct{}       `xml:"groupSet,omitempty"`
	AssociatePublicIPAddress *bool           `xml:"associatePublicIpAddress,omitempty"`
}

// eniParam resolves the NetworkInterfaceId parameter. Callers hold s.mu.
func (s *Server) eniParam(p params) (*eni, *apiError) {
	id := p.Get("NetworkInterfaceId")
	if id == "" {
		return nil, ec2Missing("NetworkInterfaceId")
	}
	if !strings.HasPrefix(id, "eni-") {
		return nil, ec2Err("InvalidNetworkInterfaceID.Malformed", "Invalid id: %q (expecting \"eni-...\")", id)
	}
	n := s.w.eni(id)
	if n == nil {
		return nil, ec2Err(CodeENINotFound, "The networkInterface ID '%s' does not exist", id)
	}
	return n, nil
}

func (s *Server) ec2DescribeENIAttribute(p params) (any, *apiError) {
	attr := p.Get("Attribute")
	if attr == "" {
		return nil, ec2Missing("Attribute")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n, aerr := s.eniParam(p)
	if aerr != nil {
		return nil, aerr
	}
	resp := &ec2ENIAttributeResponse{NetworkInterfaceID: n.id}
	switch attr {
	case "sourceDestCheck":
		resp.SourceDestCheck = &ec2BoolValue{Value: n.sourceDestCheck}
	case "description":
		resp.Description = &ec2StringValue{Value: n.desc}
	case "attachment":
		resp.Attachment = s.w.eniItem(n, false).Attachment
	case "groupSet":
		resp.GroupSet = &struct{}{}
	case "associatePublicIpAddress":
		no := false
		resp.AssociatePublicIPAddress = &no
	default:
		return nil, ec2Invalid("Attribute", attr, "description, groupSet, sourceDestCheck, attachment or associatePublicIpAddress")
	}
	return resp, nil
}

func (s *Server) ec2ModifyENIAttribute(p params) (any, *apiError) {
	sdc, hasSDC, aerr := p.boolParam("SourceDestCheck.Value")
	if aerr != nil {
		return nil, aerr
	}
	desc, hasDesc := p.Values["Description.Value"]
	for k := range p.Values {
		for _, unsupported := range []string{"Attachment.", "SecurityGroupId.", "AssociatePublicIpAddress", "EnaSrdSpecification.",
			"ConnectionTrackingSpecification.", "EnablePrimaryIpv6", "AssociatedSubnetId."} {
			if strings.HasPrefix(k, unsupported) {
				return nil, ec2Invalid(k, p.Get(k), "SourceDestCheck.Value or Description.Value (vpcroute-sim simulates no other attribute)")
			}
		}
	}
	if !hasSDC && !hasDesc {
		return nil, ec2Missing("SourceDestCheck.Value")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n, aerr := s.eniParam(p)
	if aerr != nil {
		return nil, aerr
	}
	if hasSDC {
		n.sourceDestCheck = sdc
	}
	if hasDesc {
		n.desc = desc[0]
	}
	return trueResponse("ModifyNetworkInterfaceAttribute"), nil
}
