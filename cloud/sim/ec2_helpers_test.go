package sim

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
)

// The AWS tests drive the simulator with the real aws-sdk-go-v2 clients.
// Every client gets an explicit loopback endpoint, static credentials and
// LoopbackHTTPClient, which refuses to dial anything but loopback, so
// nothing can reach a real EC2 endpoint or the real metadata service.

const (
	awsKey    = "AKIASIMULATOR0000001"
	awsSecret = "sim-aws-secret"
	awsRegion = "eu-west-1"
	awsVPC    = "vpc-0a1b2c3d4e5f60001"
	awsSubnet = "subnet-0a1b2c3d4e5f60001"
	awsTable  = "rtb-0a1b2c3d4e5f60001"
	instA     = "i-0aaaaaaaaaaaaaaaa"
	instB     = "i-0bbbbbbbbbbbbbbbb"
	eniA      = "eni-0aaaaaaaaaaaaaaaa"
	eniB      = "eni-0bbbbbbbbbbbbbbbb"
	macA      = "0a:aa:aa:aa:aa:aa"
)

func init() {
	// Belt and braces: no SDK default chain in this package may ask IMDS.
	if err := os.Setenv("AWS_EC2_METADATA_DISABLED", "true"); err != nil {
		panic(err)
	}
}

// startAWS runs the default AWS topology.
func startAWS(t *testing.T, opts ...Option) *TestServer {
	t.Helper()
	return NewTestServer(t, DefaultAWSTopology(), opts...)
}

// awsConfig is a config that never touches IMDS or the environment: the
// simulator's endpoint, static credentials, and no SDK retries, so every
// call the test makes is exactly one call.
func awsConfig(ts *TestServer, key, secret, token string) aws.Config {
	return aws.Config{
		Region:       awsRegion,
		BaseEndpoint: aws.String(ts.URL),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: key, SecretAccessKey: secret, SessionToken: token, Source: "test"}, nil
		}),
		HTTPClient: LoopbackHTTPClient(),
		Retryer:    func() aws.Retryer { return aws.NopRetryer{} },
	}
}

func ec2Client(ts *TestServer) *ec2.Client {
	return ec2.NewFromConfig(awsConfig(ts, awsKey, awsSecret, ""))
}

// imdsClient is the SDK's IMDS client on an explicit loopback endpoint.
// AWS_EC2_METADATA_DISABLED (set for this package) disables the client too,
// so the explicit endpoint comes with an explicit enable.
func imdsClient(endpoint string) *imds.Client {
	return imds.New(imds.Options{Endpoint: endpoint, HTTPClient: LoopbackHTTPClient(), ClientEnableState: imds.ClientEnabled})
}

// wantAPIError asserts the SDK saw an EC2 error answer with this HTTP
// status and code, and a request ID.
func wantAPIError(t *testing.T, err error, status int, code string) smithy.APIError {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want API error %d %s, got %v", status, code, err)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("want an HTTP response error, got %T %v", err, err)
	}
	if re.HTTPStatusCode() != status || ae.ErrorCode() != code {
		t.Fatalf("want %d %s, got %d %s: %s", status, code, re.HTTPStatusCode(), ae.ErrorCode(), ae.ErrorMessage())
	}
	if re.ServiceRequestID() == "" {
		t.Errorf("error answer without RequestID")
	}
	return ae
}

var bg = context.Background()

// routeTable fetches one table through the API.
func routeTable(t *testing.T, c *ec2.Client, id string) types.RouteTable {
	t.Helper()
	out, err := c.DescribeRouteTables(bg, &ec2.DescribeRouteTablesInput{RouteTableIds: []string{id}})
	if err != nil {
		t.Fatalf("DescribeRouteTables %s: %v", id, err)
	}
	if len(out.RouteTables) != 1 {
		t.Fatalf("DescribeRouteTables %s: %d tables", id, len(out.RouteTables))
	}
	return out.RouteTables[0]
}

// routeTo finds the route with a destination CIDR or prefix list.
func routeTo(rt types.RouteTable, dest string) *types.Route {
	for i, r := range rt.Routes {
		if aws.ToString(r.DestinationCidrBlock) == dest || aws.ToString(r.DestinationPrefixListId) == dest {
			return &rt.Routes[i]
		}
	}
	return nil
}

func createENIRoute(t *testing.T, c *ec2.Client, dest, eni string) {
	t.Helper()
	if _, err := c.CreateRoute(bg, &ec2.CreateRouteInput{RouteTableId: aws.String(awsTable),
		DestinationCidrBlock: aws.String(dest), NetworkInterfaceId: aws.String(eni)}); err != nil {
		t.Fatalf("CreateRoute %s -> %s: %v", dest, eni, err)
	}
}

// multiENITopology is the default AWS world with a third instance holding
// two ENIs.
func multiENITopology() Topology {
	topo := DefaultAWSTopology()
	topo.Instances = append(topo.Instances, InstanceSpec{ID: instC, PrivateIP: "192.168.1.198", Name: "hostC",
		ENI: "eni-0cccccccccccccccc", NetworkInterfaces: []ENISpec{{ID: "eni-0cccccccccccccccd", PrivateIP: "192.168.1.199"}}})
	return topo
}

const instC = "i-0cccccccccccccccc"
