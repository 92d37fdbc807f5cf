package sim

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

func TestLoopbackHTTPClientRefusesOtherAddresses(t *testing.T) {
	// The dial is refused before any packet is sent.
	for _, url := range []string{"http://169.254.1.1/latest/api/token", "http://[fd00::1]/latest/api/token", "http://192.0.2.1/"} {
		_, err := LoopbackHTTPClient().Get(url)
		if err == nil || !strings.Contains(err.Error(), "only loopback") {
			t.Errorf("GET %s: %v, want a refusal", url, err)
		}
	}
}

// TestLargeAnswersSurviveSDKBodyClose reads a 300-route table many times
// with SDK retries off: with the SDK's request body handed to net/http as
// is, a few percent of these calls failed with "use of closed network
// connection" (see LoopbackHTTPClient).
func TestLargeAnswersSurviveSDKBodyClose(t *testing.T) {
	ts := startAWS(t, WithBehaviour(func(b *Behaviour) { b.Quota, b.Throttle = 1000, ThrottleSpec{} }))
	for i := range 300 {
		if _, err := ts.PutRoute(PutRouteRequest{Table: awsTable, Destination: fmt.Sprintf("10.%d.%d.0/24", i/256, i%256),
			NextHopType: HopNetworkInterface, NextHopID: eniA}); err != nil {
			t.Fatal(err)
		}
	}
	c := ec2Client(ts)
	for i := range 60 {
		if _, err := c.DescribeRouteTables(bg, &ec2.DescribeRouteTablesInput{}); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
}
