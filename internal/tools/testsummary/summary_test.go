package main

import (
	"bytes"
	"strings"
	"testing"
)

// stream is `go test -json` for a package with a passing, a skipped, a
// failing test and a test with two subtests (one skipped), then a package
// that does not build and one whose TestMain exits 1.
const stream = `{"ImportPath":"tj/bad [tj/bad.test]","Action":"build-output","Output":"# tj/bad [tj/bad.test]\n"}
{"ImportPath":"tj/bad [tj/bad.test]","Action":"build-output","Output":"bad/b_test.go:3:28: undefined: undefined\n"}
{"ImportPath":"tj/bad [tj/bad.test]","Action":"build-fail"}
{"Action":"start","Package":"tj"}
` + runPass + `{"Action":"output","Package":"tj","Test":"TestPass","Output":"    a_test.go:3: hello\n"}
{"Action":"output","Package":"tj","Test":"TestPass","Output":"--- PASS: TestPass (0.00s)\n"}
{"Action":"pass","Package":"tj","Test":"TestPass","Elapsed":0}
{"Action":"run","Package":"tj","Test":"TestSkip"}
{"Action":"output","Package":"tj","Test":"TestSkip","Output":"=== RUN   TestSkip\n"}
{"Action":"output","Package":"tj","Test":"TestSkip","Output":"    a_test.go:4: needs root: creates a network namespace\n"}
{"Action":"output","Package":"tj","Test":"TestSkip","Output":"--- SKIP: TestSkip (0.00s)\n"}
{"Action":"skip","Package":"tj","Test":"TestSkip","Elapsed":0}
{"Action":"run","Package":"tj","Test":"TestFail"}
{"Action":"output","Package":"tj","Test":"TestFail","Output":"=== RUN   TestFail\n"}
{"Action":"output","Package":"tj","Test":"TestFail","Output":"    a_test.go:5: boom\n"}
{"Action":"output","Package":"tj","Test":"TestFail","Output":"--- FAIL: TestFail (0.00s)\n"}
{"Action":"fail","Package":"tj","Test":"TestFail","Elapsed":0}
{"Action":"run","Package":"tj","Test":"TestSub"}
{"Action":"output","Package":"tj","Test":"TestSub","Output":"=== RUN   TestSub\n"}
{"Action":"run","Package":"tj","Test":"TestSub/a"}
{"Action":"output","Package":"tj","Test":"TestSub/a","Output":"--- PASS: TestSub/a (0.00s)\n"}
{"Action":"pass","Package":"tj","Test":"TestSub/a","Elapsed":0}
{"Action":"run","Package":"tj","Test":"TestSub/b"}
{"Action":"output","Package":"tj","Test":"TestSub/b","Output":"--- SKIP: TestSub/b (0.00s)\n"}
{"Action":"skip","Package":"tj","Test":"TestSub/b","Elapsed":0}
{"Action":"output","Package":"tj","Test":"TestSub","Output":"--- PASS: TestSub (0.00s)\n"}
{"Action":"pass","Package":"tj","Test":"TestSub","Elapsed":0}
{"Action":"output","Package":"tj","Output":"FAIL\n"}
{"Action":"output","Package":"tj","Output":"FAIL\ttj\t0.009s\n"}
{"Action":"fail","Package":"tj","Elapsed":0.011}
{"Action":"start","Package":"tj/bad"}
{"Action":"output","Package":"tj/bad","Output":"FAIL\ttj/bad [build failed]\n"}
{"Action":"fail","Package":"tj/bad","Elapsed":0,"FailedBuild":"tj/bad [tj/bad.test]"}
{"Action":"start","Package":"tj/main"}
{"Action":"output","Package":"tj/main","Output":"setup failed\n"}
{"Action":"output","Package":"tj/main","Output":"FAIL\ttj/main\t1.236s\n"}
{"Action":"fail","Package":"tj/main","Elapsed":1.236}
`

// runPass starts TestPass, which passes in both streams.
const runPass = `{"Action":"run","Package":"tj","Test":"TestPass"}
{"Action":"output","Package":"tj","Test":"TestPass","Output":"=== RUN   TestPass\n"}
`

const passing = `{"Action":"start","Package":"tj"}
` + runPass + `{"Action":"output","Package":"tj","Test":"TestPass","Output":"--- PASS: TestPass (0.00s)\n"}
{"Action":"pass","Package":"tj","Test":"TestPass","Elapsed":0}
{"Action":"output","Package":"tj","Output":"PASS\n"}
{"Action":"output","Package":"tj","Output":"ok  \ttj\t0.003s\n"}
{"Action":"pass","Package":"tj","Elapsed":0.004}
`

func TestRunPrintsLikeGoTestAndCounts(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run("tj/", nil, strings.NewReader(stream), &out, &errOut)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	got := out.String()
	for _, want := range []string{
		"bad/b_test.go:3:28: undefined: undefined\n",          // build errors
		"    a_test.go:5: boom\n--- FAIL: TestFail (0.00s)\n", // a failed test's output
		"FAIL\ttj\t0.009s\n", "setup failed\n",                // package lines, TestMain's output
		"tests: 3 passed, 2 skipped, 1 failed (subtests included)\n",
		"  skipped tj.TestSkip: needs root: creates a network namespace\n",
		"  skipped tj.TestSub/b: no reason given\n",
		"  failed  tj.TestFail\n",
		"  failed  package bad (outside",
		"  failed  package main (outside",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	for _, noise := range []string{"hello", "--- PASS", "=== RUN   TestPass", "needs root: creates a network namespace\n--- SKIP"} {
		if strings.Contains(got, noise) {
			t.Errorf("output of a passed or skipped test printed (%q):\n%s", noise, got)
		}
	}
	if strings.Contains(got, "failed  package tj ") {
		t.Errorf("a package whose failure is a test's counted again:\n%s", got)
	}
}

// A test that was still running when its package timed out has no result
// of its own: it counts as failed and its output (the panic) is printed.
func TestRunTimeout(t *testing.T) {
	const timeout = `{"Action":"start","Package":"tj2"}
{"Action":"run","Package":"tj2","Test":"TestHang"}
{"Action":"output","Package":"tj2","Test":"TestHang","Output":"=== RUN   TestHang\n"}
{"Action":"output","Package":"tj2","Test":"TestHang","Output":"panic: test timed out after 2s\n"}
{"Action":"output","Package":"tj2","Output":"FAIL\ttj2\t2.008s\n"}
{"Action":"fail","Package":"tj2","Elapsed":2.009}
{"Action":"run","Package":"tj3","Test":"TestCut"}
{"Action":"output","Package":"tj3","Test":"TestCut","Output":"=== RUN   TestCut\n"}
`
	var out, errOut bytes.Buffer
	if code := run("", nil, strings.NewReader(timeout), &out, &errOut); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, want := range []string{"panic: test timed out after 2s\n", "=== RUN   TestCut\n",
		"tests: 0 passed, 0 skipped, 2 failed", "failed  tj2.TestHang (did not finish)", "failed  tj3.TestCut (did not finish)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if !strings.Contains(out.String(), "timed out after 2s\nFAIL\ttj2\t2.008s\n") {
		t.Errorf("the unfinished test's output is not above its package's result line:\n%s", out.String())
	}
	if strings.Contains(out.String(), "package tj2") {
		t.Errorf("the package is counted besides its unfinished test:\n%s", out.String())
	}
}

func TestRunPassing(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run("", nil, strings.NewReader(passing), &out, &errOut); code != 0 {
		t.Errorf("exit %d, want 0: %s %s", code, out.String(), errOut.String())
	}
	if want := "ok  \ttj\t0.003s\ntests: 1 passed, 0 skipped, 0 failed (subtests included)\n"; out.String() != want {
		t.Errorf("output %q, want %q", out.String(), want)
	}
}

func TestRunExitStatus(t *testing.T) {
	for _, tc := range []struct {
		name  string
		argv  []string
		input string
		code  int
	}{
		{"no events at all", nil, "", 1},
		{"the command fails with passing events", []string{"sh", "-c", "cat; exit 3"}, passing, 1},
		{"the command passes", []string{"cat"}, passing, 0},
		{"the command cannot start", []string{"/nonexistent/go"}, "", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := run("", tc.argv, strings.NewReader(tc.input), &out, &errOut); code != tc.code {
				t.Errorf("exit %d, want %d: %s %s", code, tc.code, out.String(), errOut.String())
			}
		})
	}
}

func TestSkipReason(t *testing.T) {
	for out, want := range map[string]string{
		"=== RUN   TestX\n    x_test.go:12: needs root: x: y\n--- SKIP: TestX (0.00s)\n": "needs root: x: y",
		"=== RUN   TestX\n    plain message\n--- SKIP: TestX (0.00s)\n":                  "plain message",
		"--- SKIP: TestX (0.00s)\n": "no reason given",
	} {
		if got := skipReason(out); got != want {
			t.Errorf("skipReason(%q) = %q, want %q", out, got, want)
		}
	}
}
