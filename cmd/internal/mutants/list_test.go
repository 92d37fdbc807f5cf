package main

import (
	"errors"
	"path/filepath"
	"testing"
)

// TestListMatchesTree keeps the mutant list true to the code: every mutant
// names a file that exists and a find text that occurs there exactly once.
// Without it a refactor that moves a guard would leave `make mutants`
// (not part of `make test`) broken until someone ran it.
func TestListMatchesTree(t *testing.T) {
	root := filepath.Join("..", "..", "..")
	mutants, err := load("mutants.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(mutants) == 0 {
		t.Fatal("mutants.yaml lists no mutant")
	}
	for _, m := range mutants {
		if _, err := source(root, m); err != nil {
			t.Errorf("mutant %s: %v", m.ID, err)
		}
	}
}

// TestSourceRefusesAbsentOrRepeatedText checks the check itself: a find
// text that is missing or repeated is reported as absent.
func TestSourceRefusesAbsentOrRepeatedText(t *testing.T) {
	root := filepath.Join("..", "..", "..")
	for _, m := range []Mutant{
		{ID: "missing-file", File: "no/such/file.go", Find: "x"},
		{ID: "missing-text", File: "go.mod", Find: "this text is not in go.mod"},
		{ID: "repeated-text", File: "go.mod", Find: "\n"},
	} {
		if _, err := source(root, m); !errors.Is(err, errAbsent) {
			t.Errorf("%s: source error = %v; want errAbsent", m.ID, err)
		}
	}
	if _, err := source(root, Mutant{ID: "present", File: "go.mod", Find: "module github.com/vpcroute/vpcroute\n"}); err != nil {
		t.Errorf("present text: %v", err)
	}
}
