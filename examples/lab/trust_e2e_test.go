package lab_test

import (
	"fmt"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vpcroute/vpcroute/examples/lab"
	"github.com/vpcroute/vpcroute/reconciler/status"
)

// TestLeaderRefusesForgedRecords: with the daemons running, etcd is written
// as a compromised host could: one host's record (its daemon stopped)
// rewritten to send its subnet to a NAT gateway and to claim another host's
// subnet "since 2000", and records for instances that do not exist pointing
// at live hosts. The leader refuses every one of them, names them on its
// status, forgets the records of instances that do not exist, and changes
// no route: the route entries are byte-for-byte what they were and every
// container still reaches every other. When the host's daemon comes back,
// its honest record is accepted again.
func TestLeaderRefusesForgedRecords(t *testing.T) {
	l := sharedLab(t)
	ctx := testCtx(t)
	leader := ensureDaemons(ctx, t, l)
	var victim, other *lab.Host
	for _, h := range l.Hosts {
		switch {
		case h == leader:
		case victim == nil:
			victim = h
		default:
			other = h
		}
	}
	if victim == nil {
		t.Fatalf("precondition: the lab needs a host besides the leader")
	}
	if other == nil {
		other = leader
	}
	before, err := l.SimEntries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.StopDaemon(victim, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			if err := l.StartDaemon(ctx, victim); err != nil {
				t.Errorf("cleanup: restart %s's daemon: %v", victim.Name, err)
			}
		}
	})

	record := func(instance, target, since string, subnets ...string) string {
		var claims []string
		for _, s := range subnets {
			claims = append(claims, fmt.Sprintf(`{"subnet":%q,"since":%q}`, s, since))
		}
		return fmt.Sprintf(`{"instance":%q,"target":%s,"privateIp":"192.168.1.77","subnets":[%s],"hostConfig":"ok","version":"forged","lastSeen":"2099-01-01T00:00:00Z"}`,
			instance, target, strings.Join(claims, ","))
	}
	instanceTarget := func(id string) string { return fmt.Sprintf(`{"kind":"Instance","id":%q}`, id) }
	forged := map[string]string{
		victim.InstanceID: record(victim.InstanceID, `{"kind":"NatGateway","id":"ngw-lab"}`, "2000-01-01T00:00:00Z",
			victim.Subnet.String(), other.Subnet.String()),
		"i-forged1": record("i-forged1", instanceTarget(other.InstanceID), "2000-01-01T00:00:00Z", "10.66.0.0/24"),
		"i-forged2": record("i-forged2", instanceTarget("i-forged2"), "2000-01-01T00:00:00Z", other.Subnet.String()),
	}
	for id, v := range forged {
		if err := l.EtcdPut(ctx, lab.RegistryPrefix+"hosts/"+id, v); err != nil {
			t.Fatal(err)
		}
	}
	written := time.Now()
	wantReason := fmt.Sprintf(`record says routes go to "NatGateway/ngw-lab", but the cloud says instance %s is reached through Instance/%s`, victim.InstanceID, victim.InstanceID)
	doc := waitStatus(ctx, t, l, leader, convergeTimeout, "the victim's forged record refused", func(d status.Document) bool {
		return d.Reconcile != nil && refusedFor(d, victim.InstanceID) == wantReason
	})
	t.Logf("forged record refused %s after it was written: %s", time.Since(written).Round(time.Millisecond), reconcileSummary(doc))
	for _, id := range []string{"i-forged1", "i-forged2"} {
		deadline := time.Now().Add(convergeTimeout)
		for {
			_, ok, err := l.EtcdGet(ctx, lab.RegistryPrefix+"hosts/"+id)
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("record of %s, an instance that does not exist, not forgotten within %s", id, convergeTimeout)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	// Two more resyncs: still nothing changed.
	time.Sleep(2 * l.DaemonConfig().ResyncInterval)
	after, err := l.SimEntries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(after, before) {
		t.Errorf("route entries changed under forged records:\nbefore %+v\nafter  %+v", before, after)
	}
	requireEntries(ctx, t, l)
	checkUnowned(ctx, t, l)
	expectMatrix(ctx, t, l, "with forged records in etcd", everything)

	if err := l.StartDaemon(ctx, victim); err != nil {
		t.Fatal(err)
	}
	restarted = true
	waitStatus(ctx, t, l, leader, convergeTimeout, victim.Name+"'s honest record accepted again", func(d status.Document) bool {
		return d.Reconcile != nil && len(d.Reconcile.RefusedHosts) == 0 && registeredExactly(l.Hosts)(d)
	})
}

// refusedFor returns why the leader's last pass refused instance's record.
func refusedFor(d status.Document, instance string) string {
	for _, r := range d.Reconcile.RefusedHosts {
		if r.Instance == instance {
			return r.Reason
		}
	}
	return ""
}
