package lab

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sort"
	"time"

	awsv2 "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/vpcroute/vpcroute/internal/httpbody"
)

// ENI is an EC2 network interface as DescribeNetworkInterfaces shows it.
type ENI struct {
	// ID is the interface's ID (eni-…).
	ID string
	// Instance is the instance it is attached to ("" when detached).
	Instance string
	// SourceDestCheck is on when EC2 drops every packet the interface
	// sends or receives whose addresses are not its own.
	SourceDestCheck bool
	// Tags are the interface's tags.
	Tags map[string]string
}

// ENIs reads network interfaces through the simulator's EC2 API, as the
// AWS console would show them; with no IDs, every interface of the lab's
// VPC. It needs an EC2 lab (Config.Provider ProviderAWS). The call is
// signed with the lab's own static key, which no vpcroute run gets; it
// counts as one read in the simulator's stats.
func (l *Lab) ENIs(ctx context.Context, ids ...string) (map[string]ENI, error) {
	c, err := l.ec2Client()
	if err != nil {
		return nil, err
	}
	in := &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: ids}
	if len(ids) == 0 {
		in.Filters = []types.Filter{{Name: awsv2.String("vpc-id"), Values: []string{AWSVPCID}}}
	}
	out := map[string]ENI{}
	p := ec2.NewDescribeNetworkInterfacesPaginator(c, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe network interfaces %v: %w", ids, err)
		}
		for _, ni := range page.NetworkInterfaces {
			e := ENI{ID: awsv2.ToString(ni.NetworkInterfaceId), SourceDestCheck: awsv2.ToBool(ni.SourceDestCheck), Tags: map[string]string{}}
			if ni.Attachment != nil {
				e.Instance = awsv2.ToString(ni.Attachment.InstanceId)
			}
			for _, t := range ni.TagSet {
				e.Tags[awsv2.ToString(t.Key)] = awsv2.ToString(t.Value)
			}
			out[e.ID] = e
		}
	}
	return out, nil
}

// String describes the interface for narration and errors.
func (e ENI) String() string {
	keys := make([]string, 0, len(e.Tags))
	for k := range e.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	tags := ""
	for _, k := range keys {
		tags += fmt.Sprintf(" %s=%s", k, e.Tags[k])
	}
	if tags == "" {
		tags = " (none)"
	}
	check := "on"
	if !e.SourceDestCheck {
		check = "off"
	}
	return fmt.Sprintf("%s: source/dest check %s, tags%s", e.ID, check, tags)
}

// ec2Client is an EC2 client of the simulator over its unix socket (the
// test process stays in the root network namespace, where the router's
// address does not exist). Nothing else can be dialled.
func (l *Lab) ec2Client() (*ec2.Client, error) {
	if _, ec2 := l.cloud.(awsCloud); !ec2 {
		return nil, fmt.Errorf("EC2 API: the lab simulates %s, not %s", l.cfg.Provider, ProviderAWS)
	}
	if l.sim == nil || l.sim.client == nil {
		return nil, fmt.Errorf("EC2 API: the lab has no simulator (Config.BinDir is empty)")
	}
	sock := l.sim.sock
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}}
	hc := &http.Client{Timeout: 10 * time.Second, Transport: httpbody.Transport{Next: tr}}
	return ec2.NewFromConfig(awsv2.Config{
		Region:       AWSRegion,
		BaseEndpoint: awsv2.String("http://sim"),
		Credentials:  credentials.NewStaticCredentialsProvider(AWSAccessKeyID, awsSecretKey, ""),
		HTTPClient:   hc,
	}), nil
}
