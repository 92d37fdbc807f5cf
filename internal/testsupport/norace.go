//go:build !race

package testsupport

// Race is true when this test binary was built with -race.
const Race = false
