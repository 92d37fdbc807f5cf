// Command vpcroute makes Docker containers on different cloud hosts reach
// each other by their own IPs: it configures this host (ip_forward,
// iptables) and writes "subnet -> instance" routes into the VPC route
// tables.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/vpcroute/vpcroute/cloud"
	"github.com/vpcroute/vpcroute/internal/textline"
)

// Exit statuses users can script against.
const (
	exitOK      = 0
	exitFailed  = 1
	exitBadArgs = 2
)

// usageError marks bad input: exit status 2, nothing changed.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCommand(os.Stdout, os.Stderr, os.LookupEnv).ExecuteContext(ctx)
	stop()
	if err == nil {
		os.Exit(exitOK)
	}
	fmt.Fprintln(os.Stderr, "vpcroute: "+oneLine(err))
	var ue usageError
	if errors.As(err, &ue) {
		os.Exit(exitBadArgs)
	}
	os.Exit(exitFailed)
}

// oneLine joins a possibly multi-line (errors.Join) error into one line,
// scrubbed of credentials.
func oneLine(err error) string {
	return cloud.Redact(textline.Join(err.Error(), "; "))
}
