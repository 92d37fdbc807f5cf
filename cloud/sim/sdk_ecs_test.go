package sim

import (
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
)

func TestSDKDescribeInstances(t *testing.T) {
	ts := start(t)
	c := ecsClient(t)
	req := at(ts, ecs.CreateDescribeInstancesRequest())
	req.InstanceIds = `["i-aaa"]`
	resp, err := c.DescribeInstances(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.TotalCount != 1 || len(resp.Instances.Instance) != 1 {
		t.Fatalf("want i-aaa only, got %+v", resp.Instances.Instance)
	}
	in := resp.Instances.Instance[0]
	if in.InstanceId != "i-aaa" || in.Status != "Running" || in.VpcAttributes.VpcId != testVPC || in.VpcAttributes.VSwitchId != "vsw-lab" {
		t.Errorf("instance = %+v", in)
	}
	if ips := in.VpcAttributes.PrivateIpAddress.IpAddress; len(ips) != 1 || ips[0] != "192.168.1.196" {
		t.Errorf("private IPs = %v", ips)
	}
	if nics := in.NetworkInterfaces.NetworkInterface; len(nics) != 1 || nics[0].PrimaryIpAddress != "192.168.1.196" || nics[0].MacAddress == "" {
		t.Errorf("network interfaces = %+v", nics)
	}

	all := at(ts, ecs.CreateDescribeInstancesRequest())
	all.VpcId = testVPC
	resp, err = c.DescribeInstances(all)
	if err != nil || resp.TotalCount != 2 {
		t.Fatalf("by VpcId: %v, %+v", err, resp)
	}
}

func TestSDKDescribeInstancesRemovedAndStopped(t *testing.T) {
	ts := start(t)
	c := ecsClient(t)
	if err := ts.AddInstance(InstanceSpec{ID: "i-bbb", PrivateIP: "192.168.1.197", Status: "Stopped"}); err != nil {
		t.Fatal(err)
	}
	req := at(ts, ecs.CreateDescribeInstancesRequest())
	req.InstanceIds = `["i-bbb"]`
	resp, err := c.DescribeInstances(req)
	if err != nil || len(resp.Instances.Instance) != 1 || resp.Instances.Instance[0].Status != "Stopped" {
		t.Fatalf("stopped instance: %v, %+v", err, resp)
	}
	if err := ts.RemoveInstance("i-bbb", false); err != nil {
		t.Fatal(err)
	}
	resp, err = c.DescribeInstances(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.TotalCount != 0 || len(resp.Instances.Instance) != 0 {
		t.Errorf("terminated instance still listed: %+v", resp.Instances.Instance)
	}
}

func TestSDKDescribeInstancesMalformedIDs(t *testing.T) {
	ts := start(t)
	req := at(ts, ecs.CreateDescribeInstancesRequest())
	req.InstanceIds = "i-aaa" // not a JSON array
	_, err := ecsClient(t).DescribeInstances(req)
	wantServerError(t, err, 400, CodeInstanceIDsMalformed)
}
