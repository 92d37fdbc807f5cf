package lab_test

import (
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/vpcroute/vpcroute/examples/lab"
	"github.com/vpcroute/vpcroute/internal/testsupport"
)

// TestAllocateLeasedDistinctSubnets: the e2e lab's hosts booted together,
// each running `vpcroute allocate` with the lab's etcd before its dockerd
// started. Each holds a lease in etcd, the leases are pairwise disjoint,
// inside the cluster CIDR and clear of the VPC, each dockerd runs its
// container inside its own, and daemon.json kept the operator's key.
// Allocating again, at once on every host, into fresh files gives every
// host back its own lease; into the live daemon.json it writes nothing.
func TestAllocateLeasedDistinctSubnets(t *testing.T) {
	l := sharedLab(t)
	ctx := testCtx(t)
	cluster, vpc := netip.MustParsePrefix(lab.ClusterCIDR), netip.MustParsePrefix(lab.VPCCIDR)
	hosts := l.Hosts
	for i, h := range hosts {
		t.Logf("%s %s -> %s (%s)", h.Name, h.IP, h.Subnet, h.Allocation)
		if !strings.Contains(h.Allocation, "(leased)") || !strings.Contains(h.Allocation, h.Subnet.String()) {
			t.Errorf("%s: allocate said %q, want a leased %s", h.Name, h.Allocation, h.Subnet)
		}
		if !cluster.Contains(h.Subnet.Addr()) || h.Subnet.Overlaps(vpc) || h.Subnet.Bits() != 24 {
			t.Errorf("%s: subnet %s, want a /24 inside %s clear of the VPC %s", h.Name, h.Subnet, cluster, vpc)
		}
		if !h.Subnet.Contains(h.ContainerIP()) {
			t.Errorf("%s: container at %s, outside the allocated %s: dockerd did not use daemon.json's bip", h.Name, h.ContainerIP(), h.Subnet)
		}
		for _, o := range hosts[:i] {
			if o.Subnet.Overlaps(h.Subnet) {
				t.Errorf("%s and %s both hold %s / %s", o.Name, h.Name, o.Subnet, h.Subnet)
			}
		}
		raw, ok, err := l.EtcdGet(ctx, lab.RegistryPrefix+"subnets/instance/"+h.InstanceID)
		if err != nil || !ok {
			t.Fatalf("%s: lease in etcd: found %v, %v", h.Name, ok, err)
		}
		var lease struct {
			Instance string       `json:"instance"`
			Subnet   netip.Prefix `json:"subnet"`
		}
		if err := json.Unmarshal([]byte(raw), &lease); err != nil || lease.Instance != h.InstanceID || lease.Subnet != h.Subnet {
			t.Errorf("%s: lease %s (%v), want %s held by %s", h.Name, raw, err, h.Subnet, h.InstanceID)
		}
		cfg := testsupport.ReadFile(t, h.DockerConfig())
		if !strings.Contains(cfg, `"log-driver": "json-file"`) {
			t.Errorf("%s: daemon.json lost the operator's key: %s", h.Name, cfg)
		}
	}

	dir := t.TempDir()
	outs, errs := make([]string, len(hosts)), make([]error, len(hosts))
	var wg sync.WaitGroup
	for i, h := range hosts {
		path := filepath.Join(dir, h.Name+".json")
		if err := os.WriteFile(path, []byte(lab.InitialDockerConfig), 0o644); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], errs[i] = l.Allocate(ctx, h, path)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("allocate again: %v", err)
	}
	for i, h := range hosts {
		bip, err := lab.ReadBip(filepath.Join(dir, h.Name+".json"))
		if err != nil || bip != h.Bip {
			t.Errorf("%s allocating again: bip %s (%v), want its lease's %s; said %q", h.Name, bip, err, h.Bip, outs[i])
		}
	}

	h := hosts[0]
	before := testsupport.ReadFile(t, h.DockerConfig())
	out, err := l.Allocate(ctx, h, h.DockerConfig())
	if err != nil || !strings.Contains(out, "kept "+h.Subnet.String()) || !strings.Contains(out, "unchanged") {
		t.Errorf("second allocate on %s: %q, %v; want kept %s, unchanged", h.Name, out, err, h.Subnet)
	}
	if after := testsupport.ReadFile(t, h.DockerConfig()); after != before {
		t.Errorf("second allocate on %s changed daemon.json:\n%s\nwant\n%s", h.Name, after, before)
	}
}

// TestAllocateRefusesBipInsideVPC: a host whose daemon.json already sets a
// bip inside the VPC (192.168.1.1/24, the vswitch itself) makes allocate
// exit 1 naming both ranges and leave the file as it was; with --force it
// is given its own subnet, keeping the other keys and a backup.
func TestAllocateRefusesBipInsideVPC(t *testing.T) {
	l := sharedLab(t)
	ctx := testCtx(t)
	h := l.Hosts[1]
	path := filepath.Join(t.TempDir(), "daemon.json")
	const preset = `{"bip": "192.168.1.1/24", "log-driver": "json-file"}` + "\n"
	if err := os.WriteFile(path, []byte(preset), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := l.Allocate(ctx, h, path)
	var ce *lab.CmdError
	if !errors.As(err, &ce) || ce.ExitCode != 1 {
		t.Fatalf("allocate with a bip inside the VPC: %q, %v; want exit 1", out, err)
	}
	msg := ce.Output
	for _, want := range []string{"192.168.1.1/24", "192.168.1.0/24", lab.VPCCIDR, "--force"} {
		if !strings.Contains(msg, want) {
			t.Errorf("refusal %q does not name %s", msg, want)
		}
	}
	if got := testsupport.ReadFile(t, path); got != preset {
		t.Errorf("refused allocate changed daemon.json to %q", got)
	}
	if _, err := os.Stat(path + ".vpcroute-backup"); !os.IsNotExist(err) {
		t.Errorf("refused allocate left a backup (%v)", err)
	}

	out, err = l.Allocate(ctx, h, path, "--force")
	if err != nil {
		t.Fatalf("allocate --force: %v", err)
	}
	bip, err := lab.ReadBip(path)
	if err != nil || bip.Masked() != h.Subnet {
		t.Errorf("allocate --force wrote bip %s (%v), want one in %s's subnet %s; said %q", bip, err, h.Name, h.Subnet, out)
	}
	if got := testsupport.ReadFile(t, path); !strings.Contains(got, `"log-driver": "json-file"`) {
		t.Errorf("allocate --force lost the operator's key: %s", got)
	}
	if got := testsupport.ReadFile(t, path+".vpcroute-backup"); got != preset {
		t.Errorf("backup holds %q, want the file before --force", got)
	}
}
