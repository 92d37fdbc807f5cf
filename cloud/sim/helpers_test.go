package sim

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/vpc"
)

const (
	testRegion = "cn-zhangjiakou"
	testKey    = "LTAI-test"
	testSecret = "test-secret"
	testTable  = "vtb-lab"
	testVPC    = "vpc-lab"
)

// start runs the default topology with immediate transitions unless the
// options say otherwise.
func start(t *testing.T, opts ...Option) *TestServer {
	t.Helper()
	return NewTestServer(t, DefaultTopology(), append([]Option{WithPendingDelay(0)}, opts...)...)
}

func sdkConfig() *sdk.Config {
	// No SDK retries: every call the test makes is exactly one call.
	return sdk.NewConfig().WithAutoRetry(false).WithTimeout(5 * time.Second)
}

func vpcClientWith(t *testing.T, cred auth.Credential) *vpc.Client {
	t.Helper()
	c, err := vpc.NewClientWithOptions(testRegion, sdkConfig(), cred)
	if err != nil {
		t.Fatalf("vpc client: %v", err)
	}
	return c
}

func vpcClient(t *testing.T) *vpc.Client {
	return vpcClientWith(t, credentials.NewAccessKeyCredential(testKey, testSecret))
}

func ecsClient(t *testing.T) *ecs.Client {
	t.Helper()
	c, err := ecs.NewClientWithOptions(testRegion, sdkConfig(), credentials.NewAccessKeyCredential(testKey, testSecret))
	if err != nil {
		t.Fatalf("ecs client: %v", err)
	}
	return c
}

// at points an SDK request at the simulator.
func at[R requests.AcsRequest](ts *TestServer, req R) R {
	req.SetDomain(ts.Domain)
	req.SetScheme("http")
	return req
}

// wantServerError asserts the SDK saw an answer with this status and code.
func wantServerError(t *testing.T, err error, status int, code string) *sdkerrors.ServerError {
	t.Helper()
	var se *sdkerrors.ServerError
	if !errors.As(err, &se) {
		t.Fatalf("want server error %d %s, got %v", status, code, err)
	}
	if se.HttpStatus() != status || se.ErrorCode() != code {
		t.Fatalf("want %d %s, got %d %s: %s", status, code, se.HttpStatus(), se.ErrorCode(), se.Message())
	}
	if se.RequestId() == "" {
		t.Errorf("error answer without RequestId")
	}
	return se
}

func createEntry(t *testing.T, ts *TestServer, dest, instanceID string) string {
	t.Helper()
	req := at(ts, vpc.CreateCreateRouteEntryRequest())
	req.RouteTableId = testTable
	req.DestinationCidrBlock = dest
	req.NextHopType = "Instance"
	req.NextHopId = instanceID
	req.RouteEntryName = "vpcroute-test"
	resp, err := vpcClient(t).CreateRouteEntry(req)
	if err != nil {
		t.Fatalf("CreateRouteEntry %s: %v", dest, err)
	}
	if !strings.HasPrefix(resp.RouteEntryId, "rte-") {
		t.Fatalf("RouteEntryId = %q", resp.RouteEntryId)
	}
	return resp.RouteEntryId
}

func listEntries(t *testing.T, ts *TestServer, filter func(*vpc.DescribeRouteEntryListRequest)) []vpc.RouteEntry {
	t.Helper()
	req := at(ts, vpc.CreateDescribeRouteEntryListRequest())
	req.RouteTableId = testTable
	req.MaxResult = requests.NewInteger(100) // the whole table: more than the default page
	if filter != nil {
		filter(req)
	}
	resp, err := vpcClient(t).DescribeRouteEntryList(req)
	if err != nil {
		t.Fatalf("DescribeRouteEntryList: %v", err)
	}
	return resp.RouteEntrys.RouteEntry
}

func entryByDest(entries []vpc.RouteEntry, dest string) *vpc.RouteEntry {
	for i := range entries {
		if entries[i].DestinationCidrBlock == dest {
			return &entries[i]
		}
	}
	return nil
}

// adminDo calls the admin API and decodes the JSON answer into out (if not
// nil), returning the status.
func adminDo(t *testing.T, ts *TestServer, method, path, body string, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := ts.HTTP.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, path, data, err)
		}
	}
	return resp.StatusCode
}

// httpGet fetches a URL and returns status and body.
func httpGet(t *testing.T, client *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(data)
}
