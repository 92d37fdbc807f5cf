package main

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
)

// This file holds the pure half of the README check: what the README says
// (its sections, tables, code spans and command lines) compared with what
// the CLI defines (cliFacts). readme_test.go gathers the facts from the
// command tree and runs it.

// cliFacts is what the CLI defines, as the README check needs it.
type cliFacts struct {
	// flags maps each command (by name) to the flags it takes, visible or
	// deprecated; other hidden flags are left out: they are not for
	// operators.
	flags map[string]map[string]bool
	// deprecated names the deprecated flags: documented as such, never
	// required in the reference.
	deprecated map[string]bool
	// defaults maps a flag to its defaults across the commands taking it.
	defaults map[string][]flagDefault
	// commands are the visible subcommands of vpcroute; subcommands those
	// of each command that only groups others (completion).
	commands    []string
	subcommands map[string][]string
	// hiddenCommands exist but are not listed (gen-man, for packagers).
	hiddenCommands map[string]bool
	// simFlags are vpcroute-sim's flags; makeTargets the Makefile's.
	simFlags    map[string]bool
	makeTargets map[string]bool
	// fileHas reports whether a file of the repository holds a text: the
	// README's variables that are no flag's must be read somewhere.
	fileHas func(path, text string) bool
}

// flagDefault is a flag's default and its type, as pflag gives them.
type flagDefault struct{ value, typ string }

// anyFlag reports whether some command takes --name.
func (c cliFacts) anyFlag(name string) bool {
	for _, fs := range c.flags {
		if fs[name] {
			return true
		}
	}
	return false
}

// cobraFlags are the flags cobra adds by itself: --help everywhere and
// --no-descriptions on each `completion <shell>`. Every command's --help
// documents them; the configuration reference lists vpcroute's settings.
var cobraFlags = map[string]string{
	"help":            "cobra's own, on every command",
	"no-descriptions": "cobra's own, on `vpcroute completion <shell>`",
}

// foreignFlags are the README's --flags of other programs, with the
// program they belong to.
var foreignFlags = map[string]string{
	"print-architecture": "dpkg (Install)",
	"ignore-missing":     "sha256sum -c (Install)",
	"now":                "systemctl enable --now (Install)",
	"comment":            "iptables -m comment --comment (Ownership)",
}

// wrongOnPurpose are the README's vpcroute command lines that show bad
// input, and why.
var wrongOnPurpose = map[string]string{
	"vpcroute status --provider aws": "the example of a flag of another command (exit 2)",
	"vpcroute sync extra":            "the example of an argument where none belongs (exit 2)",
}

// otherVariables are the README's VPCROUTE_* variables that are no flag's,
// and the file that reads each.
var otherVariables = map[string]string{
	"VPCROUTE_RELEASE":        "examples/cloud-init/aliyun-ecs-user-data.yaml",
	"VPCROUTE_FAULT_DURATION": "cmd/vpcroute/faults_process_test.go",
}

var (
	flagRe     = regexp.MustCompile(`(?:^|[^\w-])--([a-z][a-z0-9-]*)`)
	codeSpanRe = regexp.MustCompile("`([^`\n]+)`")
	varRe      = regexp.MustCompile(`\bVPCROUTE_[A-Z0-9_]+\b`)
	deriveRe   = regexp.MustCompile("`--([a-z0-9-]+)` → `(VPCROUTE_[A-Z0-9_]+)`")
	keyRe      = regexp.MustCompile("config key `([^`]+)`")
	keyWordRe  = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)+$`)
	envAssign  = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*=\S*\s+`)
)

// section returns the text under the heading "## title" up to the next
// heading of that level, or "" when there is none.
func section(readme, title string) string {
	start := strings.Index(readme, "\n## "+title+"\n")
	if start < 0 {
		return ""
	}
	rest := readme[start+len(title)+5:]
	if end := strings.Index(rest, "\n## "); end >= 0 {
		rest = rest[:end]
	}
	return rest
}

// tableRows returns the cells of every table row of text whose first cell
// starts with prefix (header and separator rows never do).
func tableRows(text, prefix string) [][]string {
	var rows [][]string
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, "| "+prefix) {
			continue
		}
		// A cell may hold `a\|b`: split on the bars that are not escaped.
		line = strings.ReplaceAll(strings.Trim(line, "| "), `\|`, "\x00")
		var cells []string
		for _, c := range strings.Split(line, " | ") {
			cells = append(cells, strings.ReplaceAll(strings.TrimSpace(c), "\x00", "|"))
		}
		rows = append(rows, cells)
	}
	return rows
}

// flagsIn returns the --flags named in s, in order.
func flagsIn(s string) []string {
	var out []string
	for _, m := range flagRe.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

// commandLines returns the README's command lines: each line of a fenced
// block (joined over trailing backslashes, without a "$ " prompt or
// leading VAR=value assignments) and each inline code span.
func commandLines(readme string) []string {
	var out []string
	fenced, cont := false, ""
	for _, line := range strings.Split(readme, "\n") {
		if strings.HasPrefix(line, "```") {
			fenced, cont = !fenced, ""
			continue
		}
		if !fenced {
			for _, m := range codeSpanRe.FindAllStringSubmatch(line, -1) {
				out = append(out, strings.ReplaceAll(m[1], `\|`, "|"))
			}
			continue
		}
		line = cont + strings.TrimSpace(line)
		if s, ok := strings.CutSuffix(line, `\`); ok {
			cont = s
			continue
		}
		cont = ""
		line = strings.TrimPrefix(line, "$ ")
		for envAssign.MatchString(line) {
			line = envAssign.ReplaceAllString(line, "")
		}
		out = append(out, line)
	}
	return out
}

// readmeDrift returns every way the README and the CLI disagree, one line
// each; none when the README is true.
func readmeDrift(readme string, cli cliFacts) []string {
	var bad []string
	badf := func(format string, args ...any) { bad = append(bad, fmt.Sprintf(format, args...)) }

	// The configuration reference: one row for every flag, no row for a
	// flag no command takes, defaults as the CLI sets them.
	ref := section(readme, "Configuration reference")
	if ref == "" {
		return []string{`README has no "## Configuration reference" section`}
	}
	inRef := map[string]bool{}
	for _, row := range tableRows(ref, "`--") {
		names := flagsIn(row[0])
		for _, n := range names {
			inRef[n] = true
			if !cli.anyFlag(n) {
				badf("configuration reference: --%s is no flag of any command", n)
			}
		}
		if len(row) > 1 {
			bad = append(bad, defaultDrift(names, row[1], cli.defaults)...)
		}
	}
	var all []string
	for _, fs := range cli.flags {
		for n := range fs {
			if !slices.Contains(all, n) {
				all = append(all, n)
			}
		}
	}
	sort.Strings(all)
	for _, n := range all {
		if !inRef[n] && !cli.deprecated[n] && cobraFlags[n] == "" {
			badf("configuration reference: --%s (a flag of %s) has no row", n, strings.Join(commandsTaking(cli, n), ", "))
		}
	}

	// Every --flag anywhere names a flag of vpcroute or vpcroute-sim, or of
	// a program listed in foreignFlags.
	seen := map[string]bool{}
	for _, n := range flagsIn(readme) {
		if !seen[n] && !cli.anyFlag(n) && !cli.simFlags[n] && cobraFlags[n] == "" && foreignFlags[n] == "" {
			badf("README names --%s, which no command defines", n)
		}
		seen[n] = true
	}

	// Each command line names a command that exists, and only its flags.
	for _, line := range commandLines(readme) {
		bad = append(bad, commandLineDrift(line, cli)...)
	}

	// VPCROUTE_* variables: a flag's (by the CLI's own derivation) or one
	// read elsewhere; the derivation the README states is the CLI's.
	if !strings.Contains(ref, "`VPCROUTE_<NAME>`") {
		badf("configuration reference: the rule VPCROUTE_<NAME> for every flag's variable is not stated")
	}
	for _, m := range deriveRe.FindAllStringSubmatch(readme, -1) {
		if envName(m[1]) != m[2] {
			badf("README derives %s from --%s; the CLI reads %s", m[2], m[1], envName(m[1]))
		}
	}
	flagOfVar := map[string]string{}
	for _, n := range all {
		flagOfVar[envName(n)] = n
	}
	for _, v := range uniq(varRe.FindAllString(readme, -1)) {
		if file, ok := otherVariables[v]; ok {
			if !cli.fileHas(file, v) {
				badf("README names %s, read by %s, which does not mention it", v, file)
			}
		} else if flagOfVar[v] == "" {
			badf("README names %s, which is no flag's variable (VPCROUTE_ and a flag's name in capitals)", v)
		}
	}

	// Config keys are flag names.
	var keys []string
	for _, m := range keyRe.FindAllStringSubmatch(readme, -1) {
		keys = append(keys, m[1])
	}
	for _, line := range strings.Split(ref, "\n") {
		if strings.HasPrefix(line, "|") {
			continue // the tables' values (upsert-only) are no keys
		}
		for _, m := range codeSpanRe.FindAllStringSubmatch(line, -1) {
			if keyWordRe.MatchString(m[1]) {
				keys = append(keys, m[1])
			}
		}
	}
	for _, k := range uniq(keys) {
		if !cli.anyFlag(k) {
			badf("README names the config key %q, which is no flag's name", k)
		}
	}

	// The command list is the CLI's visible commands.
	var listed []string
	for _, row := range tableRows(section(readme, "Commands"), "`vpcroute ") {
		words := strings.Fields(strings.Trim(row[0], "`"))
		if len(words) < 2 {
			continue
		}
		listed = append(listed, words[1])
		if subs, ok := cli.subcommands[words[1]]; ok {
			var got []string
			if len(words) > 2 {
				got = strings.Split(words[2], "|")
			}
			if !sameSet(got, subs) {
				badf("command list: vpcroute %s lists %v; the CLI has %v", words[1], got, subs)
			}
		}
	}
	if listed = uniq(listed); !sameSet(listed, cli.commands) {
		badf("command list: README lists %v; the CLI's visible commands are %v", listed, cli.commands)
	}
	return bad
}

// commandLineDrift checks one command line of the README: a vpcroute
// command that exists, taking every --flag given to it; a vpcroute-sim
// flag; a make target.
func commandLineDrift(line string, cli cliFacts) []string {
	words := strings.Fields(line)
	if len(words) == 0 {
		return nil
	}
	switch words[0] {
	case "vpcroute":
		if len(words) < 2 || strings.HasPrefix(words[1], "<") || strings.HasSuffix(words[1], ":") {
			return nil // "vpcroute <command> --help"; "vpcroute doctor: i-ccc ..." is output
		}
		if _, ok := wrongOnPurpose[line]; ok {
			return nil
		}
		name := words[1]
		fs, ok := cli.flags[name]
		if !ok && !cli.hiddenCommands[name] && cli.subcommands[name] == nil {
			return []string{fmt.Sprintf("README runs `vpcroute %s`, which is no command", name)}
		}
		var bad []string
		for _, f := range flagsIn(line) {
			if !fs[f] && cobraFlags[f] == "" {
				bad = append(bad, fmt.Sprintf("README runs `%s`: vpcroute %s takes no --%s", line, name, f))
			}
		}
		return bad
	case "vpcroute-sim":
		var bad []string
		for _, f := range flagsIn(line) {
			if !cli.simFlags[f] {
				bad = append(bad, fmt.Sprintf("README runs `%s`: vpcroute-sim takes no --%s", line, f))
			}
		}
		return bad
	case "make":
		if len(words) > 1 && !strings.Contains(words[1], "=") && !cli.makeTargets[words[1]] {
			return []string{fmt.Sprintf("README runs `%s`: the Makefile has no target %s", line, words[1])}
		}
	}
	return nil
}

// defaultDrift compares a reference row's default cell with the CLI's
// defaults, when the cell is only literals, one per flag of the row:
// "`30s`" or "`5`, `50`".
func defaultDrift(names []string, cell string, defaults map[string][]flagDefault) []string {
	lits := codeSpanRe.FindAllStringSubmatch(cell, -1)
	if len(lits) != len(names) || codeSpanRe.ReplaceAllString(cell, "") != strings.Repeat(", ", len(names)-1) {
		return nil // prose: "from metadata", "`5m` (`doctor`: ...)"
	}
	var bad []string
	for i, n := range names {
		want := lits[i][1]
		ok := false
		for _, d := range defaults[n] {
			ok = ok || sameDefault(want, d)
		}
		if !ok && len(defaults[n]) > 0 {
			bad = append(bad, fmt.Sprintf("configuration reference: --%s defaults to %q, the README says %q", n, defaults[n][0].value, want))
		}
	}
	return bad
}

// sameDefault compares a documented default with a flag's, durations by
// their value (60s is 1m0s).
func sameDefault(doc string, d flagDefault) bool {
	if d.typ == "duration" {
		a, errA := time.ParseDuration(doc)
		b, errB := time.ParseDuration(d.value)
		return errA == nil && errB == nil && a == b
	}
	return doc == d.value
}

func commandsTaking(cli cliFacts, flag string) []string {
	var out []string
	for c, fs := range cli.flags {
		if fs[flag] {
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return out
}

func uniq(s []string) []string {
	var out []string
	for _, v := range s {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func sameSet(a, b []string) bool {
	a, b = slices.Sorted(slices.Values(uniq(a))), slices.Sorted(slices.Values(uniq(b)))
	return slices.Equal(a, b)
}
