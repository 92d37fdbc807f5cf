package cloud

import (
	"fmt"
	"regexp"
)

// clusterNamePattern keeps cluster names safe inside every provider's
// free-text fields (Alibaba route entry names, AWS tag values) and easy to
// parse back: a lowercase DNS label of at most 40 characters.
var clusterNamePattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$`)

// ValidateClusterName returns a one-line error when name cannot be used as a
// cluster name.
func ValidateClusterName(name string) error {
	if !clusterNamePattern.MatchString(name) {
		return fmt.Errorf("cluster-name %q is invalid: expected 1-40 lowercase letters, digits or '-', starting and ending with a letter or digit", name)
	}
	return nil
}
