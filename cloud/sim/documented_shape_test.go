package sim

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/vpc"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// The fixtures under testdata/documented carry the shape of the answers
// the clouds document (testdata/documented/README.md names the source of
// each). These tests ask the simulator the same action and hold its
// answer to that shape: every path the documentation has must be in the
// simulator's answer with the same type, and the simulator adds no
// top-level field the documentation lacks.

// jsonShape records every path of a decoded JSON value with its type; the
// items of a list share the path of the list plus "[]".
func jsonShape(v any, path string, out map[string]string) {
	switch v := v.(type) {
	case map[string]any:
		out[path] = "object"
		for k, child := range v {
			jsonShape(child, path+"."+k, out)
		}
	case []any:
		out[path] = "array"
		for _, child := range v {
			jsonShape(child, path+"[]", out)
		}
	case string:
		out[path] = "string"
	case float64:
		out[path] = "number"
	case bool:
		out[path] = "bool"
	default:
		out[path] = "null"
	}
}

// xmlShape records every element path of an XML document: "text" for an
// element holding only text, "element" for one with children, "empty"
// for neither.
func xmlShape(t *testing.T, data []byte) map[string]string {
	t.Helper()
	out := map[string]string{}
	dec := xml.NewDecoder(bytes.NewReader(data))
	var stack []string
	var text []bool // whether the open element has held non-space text
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("decode XML %q: %v", data, err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if len(stack) > 0 {
				out[strings.Join(stack, "/")] = "element"
			}
			stack = append(stack, tok.Name.Local)
			text = append(text, false)
			out[strings.Join(stack, "/")] = "empty"
		case xml.CharData:
			if len(text) > 0 && len(bytes.TrimSpace(tok)) > 0 {
				text[len(text)-1] = true
			}
		case xml.EndElement:
			path := strings.Join(stack, "/")
			if text[len(text)-1] && out[path] == "empty" {
				out[path] = "text"
			}
			stack, text = stack[:len(stack)-1], text[:len(text)-1]
		}
	}
}

// shapeDiff lists how got differs from the documented shape want. An
// "empty" documented element is matched by any element at that path: the
// documentation shows an empty list, the simulator may fill it. topLevel
// is the depth of the answer's own fields; extra names the top-level
// fields the simulator may add, each with its reason in the caller.
func shapeDiff(want, got map[string]string, topLevel int, sep string, extra []string) []string {
	var diffs []string
	for path, wt := range want {
		gt, ok := got[path]
		switch {
		case !ok && inEmptyList(got, path):
			// The simulator's list is empty here, a valid answer with no
			// items to compare.
		case !ok:
			diffs = append(diffs, "missing "+path+" ("+wt+")")
		case wt != gt && wt != "empty" && !(wt == "text" && gt == "empty"):
			diffs = append(diffs, path+" is "+gt+", documented "+wt)
		}
	}
	for path := range got {
		if strings.Count(path, sep) != topLevel {
			continue
		}
		if _, ok := want[path]; !ok && !slices.Contains(extra, path) {
			diffs = append(diffs, "undocumented top-level field "+path)
		}
	}
	slices.Sort(diffs)
	return diffs
}

// inEmptyList says whether path lies inside a list that is in got
// without items.
func inEmptyList(got map[string]string, path string) bool {
	for i := strings.Index(path, "[]"); i >= 0; i = nextIndex(path, "[]", i) {
		if _, items := got[path[:i+2]]; got[path[:i]] == "array" && !items {
			return true
		}
	}
	return false
}

func nextIndex(s, sub string, after int) int {
	j := strings.Index(s[after+1:], sub)
	if j < 0 {
		return -1
	}
	return after + 1 + j
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "documented", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func checkJSONShape(t *testing.T, fixture string, answer []byte) {
	t.Helper()
	var want, got any
	if err := json.Unmarshal(readFixture(t, fixture), &want); err != nil {
		t.Fatalf("%s: %v", fixture, err)
	}
	if err := json.Unmarshal(answer, &got); err != nil {
		t.Fatalf("simulator answer %q: %v", answer, err)
	}
	ws, gs := map[string]string{}, map[string]string{}
	jsonShape(want, "", ws)
	jsonShape(got, "", gs)
	for _, d := range shapeDiff(ws, gs, 1, ".", nil) {
		t.Errorf("%s: %s", fixture, d)
	}
}

func checkXMLShape(t *testing.T, fixture string, answer []byte) {
	t.Helper()
	for _, d := range shapeDiff(xmlShape(t, readFixture(t, fixture)), xmlShape(t, answer), 1, "/", nil) {
		t.Errorf("%s: %s", fixture, d)
	}
}

// rawAnswer is an SDK response that keeps the body it was parsed from.
type rawAnswer interface{ GetHttpContentBytes() []byte }

func TestAlibabaAnswersHaveTheDocumentedShape(t *testing.T) {
	ts := start(t)
	c := vpcClient(t)
	createEntry(t, ts, "10.50.0.0/24", "i-aaa")

	// Each call returns the raw answer; the order matters (the delete
	// removes what the create added).
	calls := []struct {
		action string
		call   func() (rawAnswer, error)
	}{
		{"DescribeRouteEntryList", func() (rawAnswer, error) {
			req := at(ts, vpc.CreateDescribeRouteEntryListRequest())
			req.RouteTableId = testTable
			return c.DescribeRouteEntryList(req)
		}},
		{"CreateRouteEntries", func() (rawAnswer, error) {
			req := at(ts, vpc.CreateCreateRouteEntriesRequest())
			// One new entry and one duplicate, so that both lists have an item.
			req.RouteEntries = &[]vpc.CreateRouteEntriesRouteEntries{
				{RouteTableId: testTable, DstCidrBlock: "10.51.0.0/24", NextHopType: "Instance", NextHop: "i-aaa"},
				{RouteTableId: testTable, DstCidrBlock: "10.50.0.0/24", NextHopType: "Instance", NextHop: "i-bbb"},
			}
			return c.CreateRouteEntries(req)
		}},
		{"DeleteRouteEntries", func() (rawAnswer, error) {
			req := at(ts, vpc.CreateDeleteRouteEntriesRequest())
			req.RouteEntries = &[]vpc.DeleteRouteEntriesRouteEntries{
				{RouteTableId: testTable, DstCidrBlock: "10.51.0.0/24", NextHop: "i-aaa"},
				{RouteTableId: testTable, DstCidrBlock: "10.52.0.0/24", NextHop: "i-aaa"},
			}
			return c.DeleteRouteEntries(req)
		}},
		{"DescribeRouteTableList", func() (rawAnswer, error) {
			req := at(ts, vpc.CreateDescribeRouteTableListRequest())
			req.VpcId = testVPC
			return c.DescribeRouteTableList(req)
		}},
		{"DescribeVpcs", func() (rawAnswer, error) {
			req := at(ts, vpc.CreateDescribeVpcsRequest())
			req.VpcId = testVPC
			return c.DescribeVpcs(req)
		}},
		{"DescribeVSwitches", func() (rawAnswer, error) {
			req := at(ts, vpc.CreateDescribeVSwitchesRequest())
			req.VpcId = testVPC
			return c.DescribeVSwitches(req)
		}},
	}
	for _, tc := range calls {
		t.Run(tc.action, func(t *testing.T) {
			resp, err := tc.call()
			if err != nil {
				t.Fatalf("%s: %v", tc.action, err)
			}
			checkJSONShape(t, "vpc_"+tc.action+".json", resp.GetHttpContentBytes())
		})
	}
}

// recordingClient keeps the body of the last answer the SDK received.
type recordingClient struct {
	next *http.Client
	last []byte
}

func (r *recordingClient) Do(req *http.Request) (*http.Response, error) {
	resp, err := r.next.Do(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	if cerr := resp.Body.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	r.last = body
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

func TestEC2AnswersHaveTheDocumentedShape(t *testing.T) {
	ts := startAWS(t)
	rec := &recordingClient{next: LoopbackHTTPClient()}
	cfg := awsConfig(ts, awsKey, awsSecret, "")
	cfg.HTTPClient = rec
	c := ec2.NewFromConfig(cfg)
	ctx := t.Context()

	t.Run("CreateRoute", func(t *testing.T) {
		_, err := c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: aws.String(awsTable),
			DestinationCidrBlock: aws.String("10.60.0.0/24"), NetworkInterfaceId: aws.String(eniA)})
		if err != nil {
			t.Fatal(err)
		}
		checkXMLShape(t, "ec2_CreateRoute.xml", rec.last)
	})
	t.Run("DescribeRouteTables", func(t *testing.T) {
		_, err := c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{RouteTableIds: []string{awsTable}})
		if err != nil {
			t.Fatal(err)
		}
		checkXMLShape(t, "ec2_DescribeRouteTables.xml", rec.last)
	})
	t.Run("Error", func(t *testing.T) {
		_, err := c.DeleteRoute(ctx, &ec2.DeleteRouteInput{RouteTableId: aws.String(awsTable),
			DestinationCidrBlock: aws.String("10.61.0.0/24")})
		wantAPIError(t, err, http.StatusBadRequest, "InvalidRoute.NotFound")
		checkXMLShape(t, "ec2_Error.xml", rec.last)
	})
}
