//go:build genman

package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// gen-man is built with -tags genman only (make man, make release), so
// that the agent does not link cobra/doc, go-md2man and blackfriday.
func init() { extraCommands = append(extraCommands, newGenManCommand) }

// newGenManCommand writes the man pages: `make man` and `make release`
// run it (go run -tags genman) to ship them with the binary. Hidden: it
// is for packaging, not for operators.
func newGenManCommand() *cobra.Command {
	return &cobra.Command{
		Use:    "gen-man DIR",
		Short:  "Write a man page (section 8) for every command into DIR",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("gen-man: %w", err)
			}
			// The date is SOURCE_DATE_EPOCH's when set (reproducible
			// builds), else today's.
			header := &doc.GenManHeader{Section: "8", Source: "vpcroute " + version, Manual: "vpcroute manual"}
			if err := doc.GenManTree(cmd.Root(), header, dir); err != nil {
				return fmt.Errorf("gen-man %s: %w", dir, err)
			}
			return nil
		},
	}
}
