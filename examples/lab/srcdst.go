package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"time"

	awsv2 "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"go.uber.org/zap"
)

// EC2's source/destination check drops every packet an interface sends
// whose source is not one of its addresses, and every packet for it whose
// destination is not: all forwarded container traffic, until vpcroute turns
// the check off on the host's ENI. vpcroute-sim keeps the check as state
// but its data plane forwards regardless, so the lab enforces it itself on
// the vswitch: for every host whose primary ENI has the check on, bridge
// filter rules in the router namespace drop IPv4 frames from the host's
// port with a source other than the host's address, and frames to its port
// with another destination. A guard follows the simulator's state (admin
// API, polled), so turning the check off through the EC2 API opens the
// path within one poll, and turning it on again closes it.

// sdcPollInterval is how often the guard reads the simulator's instances.
const sdcPollInterval = 100 * time.Millisecond

// sdcGuard is the running enforcement.
type sdcGuard struct {
	mu      sync.Mutex // serializes syncs and guards the fields below
	applied string     // the rules last loaded
	ports   []string   // the ports whose host has the check on
	stop    chan struct{}
	done    chan struct{}
}

// sdcPort is one vswitch port whose host's ENI has the check on.
type sdcPort struct {
	Port string
	IP   netip.Addr
}

// renderSDCRules is the ebtables-restore input for the checked ports:
// every chain of the router's bridge filter table is replaced, so the
// result is exactly the rules for ports (none when ports is empty).
func renderSDCRules(ports []sdcPort) string {
	sorted := append([]sdcPort(nil), ports...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Port < sorted[j].Port })
	var b strings.Builder
	b.WriteString("*filter\n:INPUT ACCEPT\n:FORWARD ACCEPT\n:OUTPUT ACCEPT\n")
	for _, p := range sorted {
		// INPUT: the host sends to the router; OUTPUT: the router
		// delivers to the host; FORWARD: host to host on the vswitch.
		fmt.Fprintf(&b, "-A INPUT -p IPv4 -i %s --ip-src ! %s -j DROP\n", p.Port, p.IP)
		fmt.Fprintf(&b, "-A FORWARD -p IPv4 -i %s --ip-src ! %s -j DROP\n", p.Port, p.IP)
		fmt.Fprintf(&b, "-A FORWARD -p IPv4 -o %s --ip-dst ! %s -j DROP\n", p.Port, p.IP)
		fmt.Fprintf(&b, "-A OUTPUT -p IPv4 -o %s --ip-dst ! %s -j DROP\n", p.Port, p.IP)
	}
	b.WriteString("COMMIT\n")
	return b.String()
}

// simInstanceState is the part of GET /sim/v1/instances the guard reads.
type simInstanceState struct {
	ID              string `json:"id"`
	ENI             string `json:"eni"`
	SourceDestCheck *bool  `json:"sourceDestCheck"`
}

// checkedPorts decides, from the simulator's instances, which hosts'
// ports are checked: those whose primary ENI exists with the check on.
// A terminated instance lists no ENI, and its port is gone anyway.
func checkedPorts(hosts []*Host, instances []simInstanceState) []sdcPort {
	on := map[string]bool{}
	for _, in := range instances {
		if in.ENI != "" && (in.SourceDestCheck == nil || *in.SourceDestCheck) {
			on[in.ENI] = true
		}
	}
	var ports []sdcPort
	for _, h := range hosts {
		if h.ENI != "" && on[h.ENI] {
			ports = append(ports, sdcPort{Port: hostPort(h), IP: h.IP})
		}
	}
	return ports
}

// hostPort is the name of host h's port on the vswitch (its veth end in
// the router namespace).
func hostPort(h *Host) string { return fmt.Sprintf("h%d", h.Index) }

// ebtablesRestore finds the bridge rule loader (Debian's iptables
// package ships it).
func ebtablesRestore() (string, error) {
	for _, name := range []string{"ebtables-nft-restore", "ebtables-restore"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("ebtables-restore not found in PATH (Debian package: iptables): the EC2 lab needs it to enforce the source/destination check")
}

// startSourceDestGuard loads the rules for the simulator's current state,
// then keeps them in line with it until stopSourceDestGuard.
func (l *Lab) startSourceDestGuard(ctx context.Context) error {
	g := &sdcGuard{stop: make(chan struct{}), done: make(chan struct{})}
	l.sdc = g
	if err := l.syncSourceDest(ctx); err != nil {
		close(g.done)
		return err
	}
	go func() {
		defer close(g.done)
		t := time.NewTicker(sdcPollInterval)
		defer t.Stop()
		for {
			select {
			case <-g.stop:
				return
			case <-t.C:
			}
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := l.syncSourceDest(sctx); err != nil {
				l.log.Warn("source/destination check guard", zap.Error(err))
			}
			cancel()
		}
	}()
	return nil
}

// stopSourceDestGuard ends the guard; its rules go with the router
// namespace.
func (l *Lab) stopSourceDestGuard() {
	g := l.sdc
	if g == nil {
		return
	}
	select {
	case <-g.stop:
	default:
		close(g.stop)
	}
	<-g.done
}

// syncSourceDest reads the simulator's instances and loads the rules when
// they changed.
func (l *Lab) syncSourceDest(ctx context.Context) error {
	g := l.sdc
	g.mu.Lock()
	defer g.mu.Unlock()
	b, err := l.simDo(ctx, http.MethodGet, "/sim/v1/instances", nil)
	if err != nil {
		return err
	}
	var instances []simInstanceState
	if err := json.Unmarshal(b, &instances); err != nil {
		return fmt.Errorf("parse /sim/v1/instances: %w", err)
	}
	ports := checkedPorts(l.hostList(), instances)
	rules := renderSDCRules(ports)
	if rules == g.applied {
		return nil
	}
	bin, err := ebtablesRestore()
	if err != nil {
		return err
	}
	if _, err := run(ctx, cmdSpec{name: "nsenter", args: []string{"--net=" + nsPath(l.Router), "--", bin},
		stdin: strings.NewReader(rules), timeout: l.cfg.StepTimeout}); err != nil {
		return fmt.Errorf("load source/destination check rules in %s: %w", l.Router, err)
	}
	g.applied = rules
	g.ports = g.ports[:0]
	for _, p := range ports {
		g.ports = append(g.ports, p.Port)
	}
	l.log.Info("source/destination check enforced", zap.Strings("ports", g.ports))
	return nil
}

// SourceDestEnforced lists the hosts whose traffic the lab currently
// filters because their ENI's source/destination check is on, after
// bringing the rules in line with the simulator now. Empty on Alibaba.
func (l *Lab) SourceDestEnforced(ctx context.Context) ([]string, error) {
	if l.sdc == nil {
		return nil, nil
	}
	if err := l.syncSourceDest(ctx); err != nil {
		return nil, err
	}
	l.sdc.mu.Lock()
	ports := append([]string(nil), l.sdc.ports...)
	l.sdc.mu.Unlock()
	var names []string
	for _, h := range l.hostList() {
		for _, p := range ports {
			if p == hostPort(h) {
				names = append(names, h.Name)
			}
		}
	}
	return names, nil
}

// SetSourceDestCheck turns the check of an ENI on or off through the EC2
// API, as an operator in the console would (one write in the simulator's
// stats), and brings the lab's enforcement in line at once.
func (l *Lab) SetSourceDestCheck(ctx context.Context, eni string, on bool) error {
	c, err := l.ec2Client()
	if err != nil {
		return err
	}
	_, err = c.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{
		NetworkInterfaceId: awsv2.String(eni), SourceDestCheck: &types.AttributeBooleanValue{Value: awsv2.Bool(on)}})
	if err != nil {
		return fmt.Errorf("set the source/destination check of %s to %v: %w", eni, on, err)
	}
	if l.sdc != nil {
		return l.syncSourceDest(ctx)
	}
	return nil
}
