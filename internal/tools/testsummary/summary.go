package main

import (
	"fmt"
	"slices"
	"strings"
)

// Event is one line of `go test -json` (test2json's TestEvent, plus the
// build events go test adds).
type Event struct {
	Action      string
	Package     string
	Test        string
	Output      string
	ImportPath  string // build-output, build-fail
	FailedBuild string // on a package's fail when its build failed
}

// Summary follows a `go test -json` stream. It prints what plain
// `go test` prints (each package's result line, the output of failed
// tests, build errors) and keeps count of the results.
type Summary struct {
	// Trim is cut from the front of package paths in the final line.
	Trim string

	buf     map[string]*strings.Builder // output of running tests, by package and test
	passed  int
	skipped []string // "pkg.Test: reason"
	failed  []string // "pkg.Test"
	// failedPkgs are packages that failed with no failed test of theirs
	// (build failure, TestMain, a panic or timeout outside a test).
	failedPkgs  []string
	pkgHasFails map[string]bool
}

// NewSummary returns an empty Summary.
func NewSummary(trim string) *Summary {
	return &Summary{Trim: trim, buf: map[string]*strings.Builder{}, pkgHasFails: map[string]bool{}}
}

// Add takes one event and returns the text to print for it now.
func (s *Summary) Add(e Event) string {
	switch {
	case e.Action == "build-output":
		return e.Output
	case e.Test != "":
		return s.addTest(e)
	case e.Action == "output":
		// Plain go test prints no PASS line for a passing package.
		if e.Output == "PASS\n" {
			return ""
		}
		if strings.HasPrefix(e.Output, "FAIL") || strings.HasPrefix(e.Output, "ok ") {
			// The package's result line: unfinished tests go above it.
			return s.unfinished(e.Package) + e.Output
		}
		return e.Output
	case e.Action == "pass", e.Action == "fail", e.Action == "skip":
		// A test still running when its package ended (a timeout or a
		// panic) gets no result of its own: its output holds the cause.
		out := s.unfinished(e.Package)
		if e.Action == "fail" && !s.pkgHasFails[e.Package] {
			s.failedPkgs = append(s.failedPkgs, s.name(e.Package, ""))
		}
		return out
	}
	return ""
}

// unfinished counts the tests of pkg that have output but no result as
// failed, and returns their output (every test's when pkg is "").
func (s *Summary) unfinished(pkg string) string {
	var keys []string
	for k := range s.buf {
		if p, _, _ := strings.Cut(k, "\x00"); pkg == "" || p == pkg {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		p, test, _ := strings.Cut(k, "\x00")
		s.failed = append(s.failed, s.name(p, test)+" (did not finish)")
		s.pkgHasFails[p] = true
		b.WriteString(s.take(k))
	}
	return b.String()
}

// Flush ends the stream: tests without a result count as failed and their
// output is returned.
func (s *Summary) Flush() string { return s.unfinished("") }

func (s *Summary) addTest(e Event) string {
	key := e.Package + "\x00" + e.Test
	switch e.Action {
	case "output":
		b := s.buf[key]
		if b == nil {
			b = &strings.Builder{}
			s.buf[key] = b
		}
		b.WriteString(e.Output)
	case "pass":
		s.passed++
		delete(s.buf, key)
	case "skip":
		s.skipped = append(s.skipped, s.name(e.Package, e.Test)+": "+skipReason(s.take(key)))
	case "fail":
		s.failed = append(s.failed, s.name(e.Package, e.Test))
		s.pkgHasFails[e.Package] = true
		return s.take(key)
	}
	return ""
}

// take returns and forgets a test's output.
func (s *Summary) take(key string) string {
	b := s.buf[key]
	delete(s.buf, key)
	if b == nil {
		return ""
	}
	return b.String()
}

func (s *Summary) name(pkg, test string) string {
	pkg = strings.TrimPrefix(pkg, s.Trim)
	if test == "" {
		return pkg
	}
	return pkg + "." + test
}

// skipReason is the message a skipped test logged last (t.Skip's), without
// the file:line prefix.
func skipReason(out string) string {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	for _, l := range slices.Backward(lines) {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "=== ") || strings.HasPrefix(l, "--- ") {
			continue
		}
		if _, msg, ok := strings.Cut(l, ": "); ok && strings.Contains(l[:len(l)-len(msg)], ".go:") {
			return msg
		}
		return l
	}
	return "no reason given"
}

// Failed reports whether a test or a package failed.
func (s *Summary) Failed() bool { return len(s.failed) > 0 || len(s.failedPkgs) > 0 }

// Final is the closing report: one line of counts, the skipped tests with
// their reasons, and what failed.
func (s *Summary) Final() string {
	var b strings.Builder
	fmt.Fprintf(&b, "tests: %d passed, %d skipped, %d failed (subtests included)\n", s.passed, len(s.skipped), len(s.failed))
	for _, sk := range s.skipped {
		fmt.Fprintf(&b, "  skipped %s\n", sk)
	}
	for _, f := range s.failed {
		fmt.Fprintf(&b, "  failed  %s\n", f)
	}
	for _, p := range s.failedPkgs {
		fmt.Fprintf(&b, "  failed  package %s (outside any test: build, TestMain, panic or timeout)\n", p)
	}
	return b.String()
}
