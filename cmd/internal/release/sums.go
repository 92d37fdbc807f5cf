package main

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
)

// sha256Sums renders artifacts (name -> content) in sha256sum's format,
// sorted by name, for `sha256sum -c --ignore-missing SHA256SUMS`.
func sha256Sums(artifacts map[string][]byte) []byte {
	names := make([]string, 0, len(artifacts))
	for n := range artifacts {
		names = append(names, n)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, n := range names {
		sum := sha256.Sum256(artifacts[n])
		b.WriteString(hex.EncodeToString(sum[:]) + "  " + n + "\n")
	}
	return []byte(b.String())
}
