package doctor

import (
	"slices"
	"strings"
)

// Evaluate runs every check on the facts, in report order. It is pure:
// the same facts always give the same checks.
func Evaluate(f Facts) []Check {
	sc := classify(f)
	checks := []Check{
		checkDocker(f),
		checkDockerBIP(f),
		checkSubnetsFound(f),
		checkVPCOverlap(f, sc),
		checkClusterCIDR(f, sc),
		checkDistinct(f, sc),
		checkIPForward(f),
		checkIfForwarding(f, sc),
		checkRPFilter(f),
		checkForward(f, sc),
		checkNAT(f, sc),
		checkCloud(f),
	}
	if f.Cloud.SourceDest != nil {
		checks = append(checks, checkSourceDest(f.Cloud.SourceDest))
	}
	checks = append(checks, checkRoutesLocal(f, sc), checkRoutesPeer(f), checkQuota(f))
	return append(checks, checkDaemon(f)...)
}

// finding is one part of a check's verdict (one subnet, one table, one
// interface); combine folds a check's findings into the check.
type finding struct {
	result     Result
	cause, fix string
}

// rank orders verdicts from best to worst.
func rank(r Result) int {
	switch r {
	case Pass:
		return 0
	case Skip:
		return 1
	case Warn:
		return 2
	}
	return 3
}

// combine makes one check of findings: the worst verdict, the causes of
// the findings with that verdict joined with "; ", and their distinct
// fixes joined likewise. No findings at all is a PASS with passCause.
func combine(d def, fs []finding, passCause string) Check {
	if len(fs) == 0 {
		return d.pass(passCause)
	}
	worst := Pass
	for _, f := range fs {
		if rank(f.result) > rank(worst) {
			worst = f.result
		}
	}
	var causes, fixes []string
	for _, f := range fs {
		if f.result != worst {
			continue
		}
		if f.cause != "" && !slices.Contains(causes, f.cause) {
			causes = append(causes, f.cause)
		}
		if f.fix != "" && !slices.Contains(fixes, f.fix) {
			fixes = append(fixes, f.fix)
		}
	}
	c := Check{ID: d.id, Title: d.title, Result: worst, Cause: strings.Join(causes, "; ")}
	if worst != Pass && worst != Skip {
		c.Fix = strings.Join(fixes, "; ")
	}
	return c
}
