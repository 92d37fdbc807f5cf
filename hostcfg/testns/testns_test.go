package testns

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestRunPattern(t *testing.T) {
	for name, want := range map[string]string{
		"TestA":               "^TestA$",
		"TestA/sub_one":       "^TestA$/^sub_one$",
		"TestA/x.y(1)/#01+[]": `^TestA$/^x\.y\(1\)$/^#01\+\[\]$`,
	} {
		if got := runPattern(name); got != want {
			t.Errorf("runPattern(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestCreateDelete(t *testing.T) {
	RequireRoot(t)
	ns, err := Create("vrtn")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(ns.Path); err != nil {
		t.Errorf("namespace file missing: %v", err)
	}
	out, err := ns.Output(context.Background(), "ip", "-o", "link", "show", "lo")
	if err != nil || !strings.Contains(out, "UP") {
		t.Errorf("lo in %s: %q, %v; want UP", ns.Name, out, err)
	}
	if err := ns.Delete(); err != nil {
		t.Fatal(err)
	}
	list, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(list), ns.Name) {
		t.Errorf("%s still listed after Delete", ns.Name)
	}
}

// TestInFresh runs its body in a child inside a new namespace, which
// CheckChild verified; a fresh namespace has no interface but lo.
func TestInFresh(t *testing.T) {
	if !InFresh(t, "vrtn") {
		return
	}
	out, err := exec.Command("ip", "-o", "link", "show").Output()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], ": lo:") {
		t.Errorf("links in the child's namespace:\n%s\nwant only lo", out)
	}
}
