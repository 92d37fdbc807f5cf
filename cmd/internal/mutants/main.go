// Command mutants is vpcroute's mutation check of its safety-critical code
// (`make mutants`). Each mutant in mutants.yaml names one line of safety
// logic (an ownership check, the deletion guard, a CIDR check, the term
// check before a write...), a change that breaks it, and the tests that
// must notice. For each one, in a throw-away copy of the tree, the change
// is applied and the tests run: the mutant is killed when they fail, and
// survives when they pass. A surviving mutant that is not accepted (with
// the reason it is harmless) fails the run.
//
// It is a curated list rather than a generic mutation tool on purpose: the
// point is that every guard that keeps vpcroute from touching what it does
// not own has a test that fails without it, and a generic tool spends
// its time on log lines.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Mutant is one change to the safety code and the tests that must fail.
type Mutant struct {
	ID      string `yaml:"id"`
	File    string `yaml:"file"`
	Find    string `yaml:"find"`
	Replace string `yaml:"replace"`
	// Packages are the go test package patterns to run; Run an optional
	// -run filter.
	Packages []string `yaml:"packages"`
	Run      string   `yaml:"run"`
	Why      string   `yaml:"why"`
	// Accepted, when set, says why this mutant may survive.
	Accepted string `yaml:"accepted"`
}

// Outcome of one mutant.
const (
	Killed   = "killed"
	Survived = "survived"
	Broken   = "not-viable" // the change does not build: the list is stale
)

func main() {
	list := flag.String("list", "cmd/internal/mutants/mutants.yaml", "the mutant list")
	only := flag.String("only", "", "run only mutants whose id contains this")
	timeout := flag.Duration("timeout", 10*time.Minute, "per-mutant test timeout")
	race := flag.Bool("race", false, "run the tests with -race")
	skipAbsent := flag.Bool("skip-absent", false, "skip mutants whose find text is not in the tree (to score an older tree with today's list)")
	flag.Parse()
	if err := run(*list, *only, *timeout, *race, *skipAbsent, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "mutants:", err)
		os.Exit(1)
	}
}

func run(listPath, only string, timeout time.Duration, race, skipAbsent bool, out io.Writer) error {
	mutants, err := load(listPath)
	if err != nil {
		return err
	}
	tree, err := copyTree()
	if err != nil {
		return err
	}
	defer os.RemoveAll(tree)

	results := map[string][]string{} // outcome -> ids
	perPkg := map[string][2]int{}    // package -> killed, total
	var unaccepted []string
	start := time.Now()
	for _, m := range mutants {
		if only != "" && !strings.Contains(m.ID, only) {
			continue
		}
		t0 := time.Now()
		outcome, detail, err := try(tree, m, timeout, race)
		if errors.Is(err, errAbsent) && skipAbsent {
			fmt.Fprintf(out, "%-9s %-42s %6s  %s\n", "absent", m.ID, "", m.File)
			continue
		}
		if err != nil {
			return fmt.Errorf("mutant %s: %w", m.ID, err)
		}
		results[outcome] = append(results[outcome], m.ID)
		pkg := filepath.Dir(m.File)
		c := perPkg[pkg]
		c[1]++
		if outcome == Killed {
			c[0]++
		}
		perPkg[pkg] = c
		note := ""
		switch {
		case outcome == Survived && m.Accepted != "":
			note = " (accepted: " + m.Accepted + ")"
		case outcome != Killed:
			unaccepted = append(unaccepted, m.ID)
			note = " " + detail
		}
		fmt.Fprintf(out, "%-9s %-42s %6s  %s%s\n", outcome, m.ID, time.Since(t0).Round(time.Second), m.File, note)
	}
	fmt.Fprintf(out, "\nmutation score by package (killed/total), %s in all:\n", time.Since(start).Round(time.Second))
	pkgs := make([]string, 0, len(perPkg))
	for p := range perPkg {
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	for _, p := range pkgs {
		c := perPkg[p]
		fmt.Fprintf(out, "  %-40s %d/%d\n", p, c[0], c[1])
	}
	if len(unaccepted) > 0 {
		return fmt.Errorf("%d mutants not killed and not accepted: %s", len(unaccepted), strings.Join(unaccepted, ", "))
	}
	return nil
}

// load reads and validates the mutant list.
func load(listPath string) ([]Mutant, error) {
	raw, err := os.ReadFile(listPath)
	if err != nil {
		return nil, err
	}
	var mutants []Mutant
	if err := yaml.Unmarshal(raw, &mutants); err != nil {
		return nil, fmt.Errorf("%s: %w", listPath, err)
	}
	if err := validate(mutants); err != nil {
		return nil, fmt.Errorf("%s: %w", listPath, err)
	}
	return mutants, nil
}

func validate(ms []Mutant) error {
	seen := map[string]bool{}
	for i, m := range ms {
		switch {
		case m.ID == "" || m.File == "" || m.Find == "" || len(m.Packages) == 0 || m.Why == "":
			return fmt.Errorf("mutant %d (%q): id, file, find, packages and why are required", i, m.ID)
		case seen[m.ID]:
			return fmt.Errorf("mutant id %q is used twice", m.ID)
		case m.Find == m.Replace:
			return fmt.Errorf("mutant %s: replace equals find", m.ID)
		}
		seen[m.ID] = true
	}
	return nil
}

// copyTree copies the files git tracks (as they are in the working tree)
// to a temporary directory, so mutants never touch the real checkout.
func copyTree() (string, error) {
	ls, err := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		return "", fmt.Errorf("git ls-files: %w", err)
	}
	dir, err := os.MkdirTemp("", "vpcroute-mutants-")
	if err != nil {
		return "", err
	}
	for _, f := range strings.Split(strings.TrimRight(string(ls), "\x00"), "\x00") {
		if f == "" {
			continue
		}
		st, err := os.Lstat(f)
		if err != nil || !st.Mode().IsRegular() {
			continue // deleted in the working tree, or a link
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return dir, err
		}
		dst := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return dir, err
		}
		if err := os.WriteFile(dst, b, st.Mode().Perm()); err != nil {
			return dir, err
		}
	}
	return dir, nil
}

// try applies m in tree, runs its tests and restores the file.
func try(tree string, m Mutant, timeout time.Duration, race bool) (outcome, detail string, err error) {
	path := filepath.Join(tree, m.File)
	orig, err := source(tree, m)
	if err != nil {
		return "", "", err
	}
	mutated := bytes.Replace(orig, []byte(m.Find), []byte(m.Replace), 1)
	if err := os.WriteFile(path, mutated, 0o644); err != nil {
		return "", "", err
	}
	defer func() {
		if werr := os.WriteFile(path, orig, 0o644); werr != nil && err == nil {
			err = werr
		}
	}()
	if out, err := goCmd(tree, timeout, "vet", m.Packages...); err != nil {
		return Broken, lastLines(out, 3), nil
	}
	args := []string{"-count=1", "-failfast"}
	if race {
		args = append(args, "-race")
	}
	if m.Run != "" {
		args = append(args, "-run", m.Run)
	}
	out, err := goCmd(tree, timeout, "test", append(args, m.Packages...)...)
	var exit *exec.ExitError
	switch {
	case err == nil:
		return Survived, "", nil
	case errors.Is(err, errTimeout):
		return Killed, "(the tests hung: " + err.Error() + ")", nil
	case errors.As(err, &exit):
		return Killed, lastLines(out, 2), nil
	default:
		return "", "", fmt.Errorf("go test: %w: %s", err, lastLines(out, 5))
	}
}

// source returns the file m mutates, under root, once its find text is
// known to occur there exactly once.
func source(root string, m Mutant) ([]byte, error) {
	orig, err := os.ReadFile(filepath.Join(root, m.File))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s does not exist", errAbsent, m.File)
	}
	if err != nil {
		return nil, err
	}
	if n := bytes.Count(orig, []byte(m.Find)); n != 1 {
		return nil, fmt.Errorf("%w: find text occurs %d times in %s, want exactly once (the code moved: update the list)", errAbsent, n, m.File)
	}
	return orig, nil
}

var (
	errTimeout = errors.New("timed out")
	errAbsent  = errors.New("mutant absent")
)

func goCmd(dir string, timeout time.Duration, verb string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", append([]string{verb}, args...)...)
	cmd.Dir = dir
	var b bytes.Buffer
	cmd.Stdout, cmd.Stderr = &b, &b
	err := cmd.Run()
	if ctx.Err() != nil {
		return b.String(), fmt.Errorf("%w after %s", errTimeout, timeout)
	}
	return b.String(), err
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
