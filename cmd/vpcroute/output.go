package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// Output formats of plan, status and doctor.
const (
	outputText = "text"
	outputJSON = "json"
)

// addOutputFlag registers -o on cmd, bound to the command's own variable:
// on a variable shared by several commands the last registered default
// would win for all of them.
func addOutputFlag(cmd *cobra.Command, output *string) {
	cmd.Flags().StringVarP(output, "output", "o", outputText, "output format: text (for a person) or json (versioned, for scripts)")
}

// checkOutput refuses an output format other than text and json.
func checkOutput(output string) error {
	if output != outputText && output != outputJSON {
		return usageError{fmt.Errorf("output %q is invalid: expected text or json", output)}
	}
	return nil
}
