package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/vpcroute/vpcroute/examples/lab"
)

// say prints one narration line.
func say(format string, args ...any) { fmt.Printf(format+"\n", args...) }

// printIndented prints a block under the narration's indentation.
func printIndented(s string) {
	for _, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		say("      %s", strings.TrimRight(line, " "))
	}
}

// since is the time since start, rounded for a person.
func since(start time.Time) time.Duration { return time.Since(start).Round(10 * time.Millisecond) }

// showTable prints the route tables' non-system entries.
func showTable(ctx context.Context, l *lab.Lab, title string) error {
	entries, err := l.SimEntries(ctx)
	if err != nil {
		return err
	}
	say("%s", title)
	for _, e := range entries {
		if e.Type == "System" {
			continue
		}
		say("      %s", l.Cloud().EntryLine(e))
	}
	return nil
}

// showENIs prints every host's primary ENI as the EC2 API lists it.
func showENIs(ctx context.Context, l *lab.Lab, title string) error {
	var ids []string
	for _, h := range l.Hosts {
		ids = append(ids, h.ENI)
	}
	enis, err := l.ENIs(ctx, ids...)
	if err != nil {
		return err
	}
	say("%s", title)
	for _, h := range l.Hosts {
		say("      %s %s", h.Name, enis[h.ENI])
	}
	return nil
}

// cloudChoices lists the clouds for --provider's help: "aliyun (VPC
// route entries to ECS instances) or aws (...)".
func cloudChoices() string {
	clouds := lab.Clouds()
	var b strings.Builder
	for i, c := range clouds {
		switch {
		case i == 0:
		case i == len(clouds)-1:
			b.WriteString(" or ")
		default:
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s (%s)", c.Name(), c.Summary())
	}
	return b.String()
}

// instanceLabel names a host's instance (and on EC2 its primary ENI).
func instanceLabel(h *lab.Host) string {
	if h.ENI != "" {
		return fmt.Sprintf("instance %s, ENI %s", h.InstanceID, h.ENI)
	}
	return "instance " + h.InstanceID
}

// printAllocations prints the mapping `vpcroute allocate` chose at boot,
// one host a line: its private IP, its subnet, the allocator and the bip.
func printAllocations(hosts []*lab.Host) {
	for _, h := range hosts {
		mode := "derived"
		if strings.Contains(h.Allocation, "(leased)") {
			mode = "leased"
		}
		verb, _, _ := strings.Cut(h.Allocation, " ")
		say("        %-7s %-15s -> %-18s %s %s, bip %s in daemon.json", h.Name, h.IP, h.Subnet, verb, mode, h.Bip)
	}
}
