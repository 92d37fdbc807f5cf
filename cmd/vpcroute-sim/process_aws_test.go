package main

import (
	"context"
	"io"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/vpcroute/vpcroute/cloud/sim"
)

// TestProcessServesEC2AndIMDS runs the AWS world as a process: the EC2 API
// for the real aws-sdk-go-v2 client, and IMDSv2 of one instance on a
// listener of its own for the SDK's imds client.
func TestProcessServesEC2AndIMDS(t *testing.T) {
	p := startSim(t, 1, binPath, "--topology-default", "aws", "--listen", "127.0.0.1:0",
		"--metadata-listen", "i-0aaaaaaaaaaaaaaaa=127.0.0.1:0")
	ctx := context.Background()
	cfg := aws.Config{
		Region:       "eu-west-1",
		BaseEndpoint: aws.String("http://" + p.addrs[0]),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIASIMULATOR0000001", SecretAccessKey: "sim-aws-secret"}, nil
		}),
		HTTPClient: sim.LoopbackHTTPClient(),
		Retryer:    func() aws.Retryer { return aws.NopRetryer{} },
	}
	c := ec2.NewFromConfig(cfg)
	if _, err := c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: aws.String("rtb-0a1b2c3d4e5f60001"),
		DestinationCidrBlock: aws.String("10.1.0.0/24"), NetworkInterfaceId: aws.String("eni-0bbbbbbbbbbbbbbbb")}); err != nil {
		t.Fatalf("CreateRoute: %v", err)
	}
	out, err := c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range out.RouteTables[0].Routes {
		found = found || (aws.ToString(r.DestinationCidrBlock) == "10.1.0.0/24" && r.State == types.RouteStateActive)
	}
	if !found {
		t.Errorf("route not active: %+v", out.RouteTables[0].Routes)
	}

	// The metadata line follows the listening line.
	line := p.nextLine(t)
	f := strings.Fields(line)
	if len(f) != 3 || f[0] != "metadata" || f[1] != "i-0aaaaaaaaaaaaaaaa" {
		t.Fatalf("metadata line %q, want \"metadata INSTANCE ADDR\"", line)
	}
	mc := imds.New(imds.Options{Endpoint: "http://" + f[2], HTTPClient: sim.LoopbackHTTPClient(), ClientEnableState: imds.ClientEnabled})
	md, err := mc.GetMetadata(ctx, &imds.GetMetadataInput{Path: "instance-id"})
	if err != nil {
		t.Fatalf("IMDSv2 through the SDK: %v", err)
	}
	id, err := io.ReadAll(md.Content)
	if err != nil || string(id) != "i-0aaaaaaaaaaaaaaaa" {
		t.Errorf("instance-id = %q, %v", id, err)
	}

	var st sim.Stats
	getJSON(t, sim.LoopbackHTTPClient(), "GET", "http://"+p.addrs[0]+"/sim/v1/stats", "", &st)
	if st.Count("CreateRoute", "ok") != 1 || st.Count("DescribeRouteTables", "ok") != 1 {
		t.Errorf("stats = %+v", st)
	}
	if err := p.stop(t); err != nil {
		t.Fatalf("exit after SIGTERM: %v: %s", err, p.stderr)
	}
	if strings.Contains(p.stderr.String(), "sim-aws-secret") {
		t.Error("the log carries a secret")
	}
}

func TestProcessPrintAWSTopology(t *testing.T) {
	out, err := exec.Command(binPath, "--print-topology", "--topology-default", "aws").Output()
	if err != nil {
		t.Fatal(err)
	}
	topo, err := sim.ParseTopology(out)
	if err != nil || topo.Provider != sim.ProviderAWS {
		t.Errorf("printed AWS topology: provider %q, %v", topo.Provider, err)
	}
}
