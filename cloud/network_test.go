package cloud

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func TestReadNetwork(t *testing.T) {
	p := netip.MustParsePrefix
	vpc, sub := []netip.Prefix{p("192.168.0.0/16")}, []netip.Prefix{p("192.168.1.0/24")}
	given := []netip.Prefix{p("172.16.0.0/12")}
	boom := errors.New("boom")
	for _, tc := range []struct {
		name      string
		given     Network
		cidrErr   error
		subErr    error
		tables    []string
		tablesErr error
		want      string // the Network, as fmt prints it
		wantErr   string
		wantReads []string
	}{
		{name: "all read", given: Network{VPCID: "vpc-1"}, tables: []string{"rt-1"},
			want: "{vpc-1 [192.168.0.0/16] [192.168.1.0/24] [rt-1]}", wantReads: []string{"cidrs", "subnets", "tables"}},
		{name: "given CIDRs and tables stand", given: Network{VPCID: "vpc-1", CIDRs: given, RouteTables: []string{"rt-given"}},
			tables: []string{"rt-1"}, want: "{vpc-1 [172.16.0.0/12] [192.168.1.0/24] [rt-given]}", wantReads: []string{"subnets"}},
		{name: "no table", given: Network{VPCID: "vpc-1"},
			want: "{vpc-1 [192.168.0.0/16] [192.168.1.0/24] []}", wantErr: "VPC vpc-1 has no route table", wantReads: []string{"cidrs", "subnets", "tables"}},
		{name: "tables error stands", given: Network{VPCID: "vpc-1"}, tablesErr: boom,
			want: "{vpc-1 [192.168.0.0/16] [192.168.1.0/24] []}", wantErr: "boom", wantReads: []string{"cidrs", "subnets", "tables"}},
		{name: "CIDRs fail: nothing more read", given: Network{VPCID: "vpc-1"}, cidrErr: boom,
			want: "{vpc-1 [] [] []}", wantErr: "boom", wantReads: []string{"cidrs"}},
		{name: "subnets fail", given: Network{VPCID: "vpc-1", CIDRs: given}, subErr: boom,
			want: "{vpc-1 [172.16.0.0/12] [] []}", wantErr: "boom", wantReads: []string{"subnets"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var reads []string
			n, err := ReadNetwork(context.Background(), tc.given, NetworkReads{
				CIDRs: func(context.Context) ([]netip.Prefix, error) {
					reads = append(reads, "cidrs")
					return vpc, tc.cidrErr
				},
				SubnetCIDRs: func(context.Context) ([]netip.Prefix, error) {
					reads = append(reads, "subnets")
					if tc.subErr != nil {
						return nil, tc.subErr
					}
					return sub, nil
				},
				RouteTables: func(context.Context) ([]string, error) {
					reads = append(reads, "tables")
					return tc.tables, tc.tablesErr
				},
			})
			if got := fmt.Sprint(err); (tc.wantErr == "" && err != nil) || (tc.wantErr != "" && !strings.Contains(got, tc.wantErr)) {
				t.Errorf("error = %v; want %q", err, tc.wantErr)
			}
			if got := fmt.Sprint(n); got != tc.want {
				t.Errorf("Network = %s; want %s", got, tc.want)
			}
			if !slices.Equal(reads, tc.wantReads) {
				t.Errorf("reads = %v; want %v", reads, tc.wantReads)
			}
		})
	}
}
