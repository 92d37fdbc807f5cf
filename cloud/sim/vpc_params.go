package sim

import (
	"slices"
	"strings"
)

// The route-entry actions take only the request parameters the VPC API
// reference (2016-04-28) lists for them. The reference does not say what
// the real API does with a parameter it does not know; dropping it
// silently is the likely answer, and the dangerous one: an entry created
// without the description vpcroute sent under a misspelt name would never
// be recognised as vpcroute's again. So the simulator refuses any other
// parameter with 400 InvalidParameter, naming it.
//
// alibaba-cloud-sdk-go (v1.63.107) has request fields the reference does
// not list, which are refused too: RouteEntries.N.Describption of
// CreateRouteEntries (a misspelling the SDK keeps beside Description) and
// PrivateIpAddress of CreateRouteEntry.

// commonParams may come with any call: the signature's parameters and the
// owner parameters every action declares.
var commonParams = []string{
	"Action", "Version", "Format", "RegionId", "AccessKeyId", "SecurityToken", "BearerToken",
	"Signature", "SignatureMethod", "SignatureVersion", "SignatureNonce", "SignatureType", "Timestamp",
	"OwnerId", "OwnerAccount", "ResourceOwnerId", "ResourceOwnerAccount",
}

// actionParams lists each checked action's own parameters; N stands for
// the index of a repeated item (1, 2, ...).
var actionParams = map[string][]string{
	"CreateRouteEntry": {"RouteTableId", "DestinationCidrBlock", "NextHopType", "NextHopId", "RouteEntryName",
		"Description", "ClientToken", "DryRun", "NextHopList.N.NextHopId", "NextHopList.N.NextHopType", "NextHopList.N.Weight"},
	"CreateRouteEntries": {"DryRun", "RouteEntries.N.RouteTableId", "RouteEntries.N.DstCidrBlock", "RouteEntries.N.IpVersion",
		"RouteEntries.N.NextHopType", "RouteEntries.N.NextHop", "RouteEntries.N.Name", "RouteEntries.N.Description"},
	"DeleteRouteEntry": {"RouteTableId", "RouteEntryId", "DestinationCidrBlock", "NextHopId", "DryRun",
		"NextHopList.N.NextHopId", "NextHopList.N.NextHopType"},
	"DeleteRouteEntries": {"DryRun", "RouteEntries.N.RouteTableId", "RouteEntries.N.RouteEntryId",
		"RouteEntries.N.DstCidrBlock", "RouteEntries.N.NextHop"},
	"ModifyRouteEntry": {"RouteEntryId", "RouteTableId", "DestinationCidrBlock", "RouteEntryName", "Description",
		"NewNextHopId", "NewNextHopType", "DryRun"},
	"DescribeRouteEntryList": {"RouteTableId", "RouteEntryId", "DestinationCidrBlock", "DestCidrBlockList.N",
		"RouteEntryName", "RouteEntryType", "IpVersion", "NextHopId", "NextHopType", "ServiceType", "MaxResult", "NextToken"},
	// The describe calls' lists are the request fields of the SDK's types
	// (services/vpc DescribeVpcsRequest, DescribeVSwitchesRequest,
	// DescribeRouteTableListRequest; services/ecs DescribeInstancesRequest),
	// which match the API references' parameter tables.
	"DescribeVpcs": {"VpcId", "VpcName", "VpcOwnerId", "IsDefault", "EnableIpv6", "DhcpOptionsSetId", "AdvancedFeature",
		"ResourceGroupId", "Tag.N.Key", "Tag.N.Value", "PageNumber", "PageSize", "DryRun"},
	"DescribeVSwitches": {"VpcId", "VSwitchId", "VSwitchName", "VSwitchOwnerId", "ZoneId", "RouteTableId", "IsDefault",
		"EnableIpv6", "ResourceGroupId", "Tag.N.Key", "Tag.N.Value", "PageNumber", "PageSize", "DryRun"},
	"DescribeRouteTableList": {"VpcId", "RouterId", "RouterType", "RouteTableId", "RouteTableName", "RouteTableType",
		"ResourceGroupId", "Tag.N.Key", "Tag.N.Value", "PageNumber", "PageSize"},
	"DescribeInstances": {"InstanceIds", "InstanceName", "InstanceNetworkType", "InstanceType", "InstanceTypeFamily",
		"InstanceChargeType", "InternetChargeType", "Status", "ImageId", "VpcId", "VSwitchId", "ZoneId", "SecurityGroupId",
		"PrivateIpAddresses", "InnerIpAddresses", "PublicIpAddresses", "EipAddresses", "RdmaIpAddresses", "Ipv6Address.N",
		"HpcClusterId", "KeyPairName", "LockReason", "DeviceAvailable", "IoOptimized", "NeedSaleCycle",
		"AdditionalAttributes.N", "HttpEndpoint", "HttpTokens", "HttpPutResponseHopLimit", "ResourceGroupId",
		"Tag.N.Key", "Tag.N.Value", "Filter.N.Key", "Filter.N.Value", "PageNumber", "PageSize", "MaxResults", "NextToken",
		"DryRun"},
}

// checkParams refuses a parameter the action does not take, and a dry run,
// which the simulator does not simulate. Actions without a list are not
// checked.
func checkParams(action string, p params) *apiError {
	own, ok := actionParams[action]
	if !ok {
		return nil
	}
	names := make([]string, 0, len(p.Values))
	for name := range p.Values {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if !slices.Contains(commonParams, name) && !slices.Contains(own, indexless(name)) {
			return badRequest(CodeInvalidParameter,
				"The parameter %s is not a parameter of %s: expected one of %s.", name, action, strings.Join(own, ", "))
		}
	}
	if v := p.Get("DryRun"); v != "" && v != "false" {
		return invalidParam("DryRun", v, "false: vpcroute-sim does not simulate dry runs")
	}
	return nil
}

// indexless writes the index of a repeated parameter as N:
// RouteEntries.12.Name is RouteEntries.N.Name, DestCidrBlockList.3 is
// DestCidrBlockList.N.
func indexless(name string) string {
	parts := strings.Split(name, ".")
	for i, part := range parts {
		if i > 0 && part != "" && strings.Trim(part, "0123456789") == "" {
			parts[i] = "N"
		}
	}
	return strings.Join(parts, ".")
}
