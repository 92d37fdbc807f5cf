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

// showTable prints the route table's non-system entries.
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
		label := e.Name
		if label == "" {
			label = e.Description
		}
		say("      %-16s -> %-10s %-8s %-10s %s", e.Destination, e.NextHopType, e.NextHopID, e.Status, label)
	}
	return nil
}
