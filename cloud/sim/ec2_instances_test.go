package sim

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func TestEC2DescribeInstances(t *testing.T) {
	ts := NewTestServer(t, multiENITopology())
	c := ec2Client(ts)
	out, err := c.DescribeInstances(bg, &ec2.DescribeInstancesInput{InstanceIds: []string{instA}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Reservations) != 1 || len(out.Reservations[0].Instances) != 1 {
		t.Fatalf("reservations = %+v", out.Reservations)
	}
	in := out.Reservations[0].Instances[0]
	if aws.ToString(in.InstanceId) != instA || in.State == nil || in.State.Name != types.InstanceStateNameRunning || aws.ToInt32(in.State.Code) != 16 ||
		aws.ToString(in.PrivateIpAddress) != "192.168.1.196" || aws.ToString(in.VpcId) != awsVPC || aws.ToString(in.SubnetId) != awsSubnet ||
		!aws.ToBool(in.SourceDestCheck) || in.LaunchTime == nil || in.Placement == nil || aws.ToString(in.Placement.AvailabilityZone) != "eu-west-1a" {
		t.Errorf("instance = %+v", in)
	}
	if in.IamInstanceProfile == nil || aws.ToString(in.IamInstanceProfile.Arn) != "arn:aws:iam::123456789012:instance-profile/vpcroute-node" {
		t.Errorf("instance profile = %+v", in.IamInstanceProfile)
	}
	if len(in.NetworkInterfaces) != 1 {
		t.Fatalf("network interfaces = %+v", in.NetworkInterfaces)
	}
	n := in.NetworkInterfaces[0]
	if aws.ToString(n.NetworkInterfaceId) != eniA || aws.ToString(n.MacAddress) != macA || n.Attachment == nil ||
		aws.ToInt32(n.Attachment.DeviceIndex) != 0 || n.Attachment.Status != types.AttachmentStatusAttached {
		t.Errorf("primary ENI = %+v", n)
	}
	if len(in.Tags) != 1 || aws.ToString(in.Tags[0].Value) != "hostA" {
		t.Errorf("tags = %+v", in.Tags)
	}

	out, err = c.DescribeInstances(bg, &ec2.DescribeInstancesInput{Filters: []types.Filter{{Name: aws.String("instance-id"), Values: []string{instC}}}})
	if err != nil || len(out.Reservations) != 1 || len(out.Reservations[0].Instances[0].NetworkInterfaces) != 2 {
		t.Fatalf("multi-ENI instance: %+v, %v", out, err)
	}
	out, err = c.DescribeInstances(bg, &ec2.DescribeInstancesInput{Filters: []types.Filter{{Name: aws.String("instance-state-name"), Values: []string{"stopped"}}}})
	if err != nil || len(out.Reservations) != 0 {
		t.Errorf("stopped filter: %+v, %v", out, err)
	}
	out, err = c.DescribeInstances(bg, &ec2.DescribeInstancesInput{Filters: []types.Filter{{Name: aws.String("tag:Name"), Values: []string{"host?"}}}})
	if err != nil || len(out.Reservations) != 3 {
		t.Errorf("tag filter with a wildcard: %d reservations, %v", len(out.Reservations), err)
	}
	p := ec2.NewDescribeInstancesPaginator(c, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(5)})
	pages := 0
	for p.HasMorePages() {
		if _, err := p.NextPage(bg); err != nil {
			t.Fatal(err)
		}
		pages++
	}
	if pages != 1 {
		t.Errorf("pages = %d", pages)
	}

	_, err = c.DescribeInstances(bg, &ec2.DescribeInstancesInput{InstanceIds: []string{"i-0000000000000dead"}})
	wantAPIError(t, err, 400, CodeEC2InstanceNotFound)
	_, err = c.DescribeInstances(bg, &ec2.DescribeInstancesInput{InstanceIds: []string{instA}, MaxResults: aws.Int32(5)})
	wantAPIError(t, err, 400, CodeInvalidParameterCombination)
}

func TestEC2NetworkInterfaces(t *testing.T) {
	ts := NewTestServer(t, multiENITopology())
	c := ec2Client(ts)
	out, err := c.DescribeNetworkInterfaces(bg, &ec2.DescribeNetworkInterfacesInput{
		Filters: []types.Filter{{Name: aws.String("attachment.instance-id"), Values: []string{instC}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.NetworkInterfaces) != 2 {
		t.Fatalf("ENIs of %s = %+v", instC, out.NetworkInterfaces)
	}
	for i, n := range out.NetworkInterfaces {
		if n.Attachment == nil || aws.ToString(n.Attachment.InstanceId) != instC || aws.ToString(n.Attachment.InstanceOwnerId) != DefaultAccountID ||
			aws.ToInt32(n.Attachment.DeviceIndex) != int32(i) || !aws.ToBool(n.SourceDestCheck) || n.Status != types.NetworkInterfaceStatusInUse ||
			aws.ToString(n.VpcId) != awsVPC || aws.ToString(n.AvailabilityZone) != "eu-west-1a" {
			t.Errorf("ENI %d = %+v", i, n)
		}
	}

	// Source/destination check: off, read back, on the DescribeInstances view too.
	if _, err := c.ModifyNetworkInterfaceAttribute(bg, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String(eniA),
		SourceDestCheck: &types.AttributeBooleanValue{Value: aws.Bool(false)}}); err != nil {
		t.Fatal(err)
	}
	attr, err := c.DescribeNetworkInterfaceAttribute(bg, &ec2.DescribeNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String(eniA),
		Attribute: types.NetworkInterfaceAttributeSourceDestCheck})
	if err != nil {
		t.Fatal(err)
	}
	if attr.SourceDestCheck == nil || aws.ToBool(attr.SourceDestCheck.Value) || aws.ToString(attr.NetworkInterfaceId) != eniA {
		t.Errorf("attribute = %+v", attr)
	}
	ins, err := c.DescribeInstances(bg, &ec2.DescribeInstancesInput{InstanceIds: []string{instA}})
	if err != nil || aws.ToBool(ins.Reservations[0].Instances[0].SourceDestCheck) {
		t.Errorf("instance sourceDestCheck after the change: %v", err)
	}
	out, err = c.DescribeNetworkInterfaces(bg, &ec2.DescribeNetworkInterfacesInput{
		Filters: []types.Filter{{Name: aws.String("source-dest-check"), Values: []string{"false"}}}})
	if err != nil || len(out.NetworkInterfaces) != 1 || aws.ToString(out.NetworkInterfaces[0].NetworkInterfaceId) != eniA {
		t.Errorf("source-dest-check filter: %+v, %v", out, err)
	}

	out, err = c.DescribeNetworkInterfaces(bg, &ec2.DescribeNetworkInterfacesInput{
		Filters: []types.Filter{{Name: aws.String("network-interface-id"), Values: []string{eniB, "eni-0000000000000dead"}}}})
	if err != nil || len(out.NetworkInterfaces) != 1 || aws.ToString(out.NetworkInterfaces[0].NetworkInterfaceId) != eniB {
		t.Errorf("network-interface-id filter: %+v, %v", out, err)
	}
	_, err = c.DescribeNetworkInterfaces(bg, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{"eni-0000000000000dead"}})
	wantAPIError(t, err, 400, CodeENINotFound)
	_, err = c.ModifyNetworkInterfaceAttribute(bg, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String("eni-0000000000000dead"),
		SourceDestCheck: &types.AttributeBooleanValue{Value: aws.Bool(false)}})
	wantAPIError(t, err, 400, CodeENINotFound)
	_, err = c.ModifyNetworkInterfaceAttribute(bg, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String(eniA)})
	wantAPIError(t, err, 400, CodeMissingParameter)
	_, err = c.DescribeNetworkInterfaceAttribute(bg, &ec2.DescribeNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String(eniA)})
	wantAPIError(t, err, 400, CodeMissingParameter)
}

func TestEC2CreateTags(t *testing.T) {
	ts := startAWS(t)
	c := ec2Client(ts)
	if _, err := c.CreateTags(bg, &ec2.CreateTagsInput{Resources: []string{eniA, awsTable},
		Tags: []types.Tag{{Key: aws.String("vpcroute:cluster"), Value: aws.String("prod")}, {Key: aws.String("team"), Value: aws.String("net")}}}); err != nil {
		t.Fatal(err)
	}
	out, err := c.DescribeNetworkInterfaces(bg, &ec2.DescribeNetworkInterfacesInput{Filters: []types.Filter{{Name: aws.String("tag:team"), Values: []string{"net"}}}})
	if err != nil || len(out.NetworkInterfaces) != 1 || len(out.NetworkInterfaces[0].TagSet) != 2 {
		t.Fatalf("tagged ENI: %+v, %v", out, err)
	}
	rts, err := c.DescribeRouteTables(bg, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{{Name: aws.String("tag:vpcroute:cluster"), Values: []string{"prod"}}}})
	if err != nil || len(rts.RouteTables) != 1 {
		t.Errorf("retagged table (the tag overwrites lab): %+v, %v", rts, err)
	}

	_, err = c.CreateTags(bg, &ec2.CreateTagsInput{Resources: []string{awsTable, "rtb-0000000000000dead"}, Tags: []types.Tag{{Key: aws.String("x"), Value: aws.String("y")}}})
	wantAPIError(t, err, 400, CodeRouteTableNotFound)
	_, err = c.CreateTags(bg, &ec2.CreateTagsInput{Resources: []string{"eni-0000000000000dead"}, Tags: []types.Tag{{Key: aws.String("x"), Value: aws.String("y")}}})
	wantAPIError(t, err, 400, CodeENINotFound)
	_, err = c.CreateTags(bg, &ec2.CreateTagsInput{Resources: []string{"sg-0123"}, Tags: []types.Tag{{Key: aws.String("x"), Value: aws.String("y")}}})
	wantAPIError(t, err, 400, CodeInvalidID)
	_, err = c.CreateTags(bg, &ec2.CreateTagsInput{Resources: []string{eniA}, Tags: []types.Tag{{Key: aws.String("aws:owner"), Value: aws.String("y")}}})
	wantAPIError(t, err, 400, CodeInvalidParameterValue)
	if rt := routeTable(t, c, awsTable); len(rt.Tags) != 3 {
		t.Errorf("a failed CreateTags changed the table: %+v", rt.Tags)
	}
	var many []types.Tag
	for i := range 49 {
		many = append(many, types.Tag{Key: aws.String("k" + string(rune('A'+i%26)) + string(rune('a'+i/26))), Value: aws.String("v")})
	}
	_, err = c.CreateTags(bg, &ec2.CreateTagsInput{Resources: []string{awsTable}, Tags: many})
	wantAPIError(t, err, 400, CodeTagLimitExceeded)
}
