package racecheck

import (
	"bytes"
	"strings"
	"testing"
)

const report = "==================\n" + Marker + "\nWrite at 0x00c000012345 by goroutine 7:\n  main.(*agent).run()\n      /src/agent.go:42 +0x44\n\nPrevious read at 0x00c000012345 by goroutine 6:\n  main.status()\n==================\n"

func TestWriterCountsReportsCutAnywhere(t *testing.T) {
	out := "starting\n" + report + "some log line\n" + report + "Found 2 data race(s)\n"
	for _, size := range []int{1, 2, 7, len(Marker) - 1, len(Marker), 100, len(out)} {
		var dst bytes.Buffer
		w := NewWriter(&dst)
		for i := 0; i < len(out); i += size {
			if _, err := w.Write([]byte(out[i:min(i+size, len(out))])); err != nil {
				t.Fatal(err)
			}
		}
		if dst.String() != out {
			t.Fatalf("chunks of %d: output not passed on unchanged", size)
		}
		if w.Races() != 2 {
			t.Errorf("chunks of %d: %d races counted, want 2", size, w.Races())
		}
		if ex := w.Excerpt(); !strings.HasPrefix(ex, Marker+"\nWrite at") || !strings.Contains(ex, "agent.go:42") {
			t.Errorf("chunks of %d: excerpt %q", size, ex)
		}
	}
}

func TestWriterWithoutReports(t *testing.T) {
	var dst bytes.Buffer
	w := NewWriter(&dst)
	for _, s := range []string{"WARNING: DATA", " RAC", "K is not here\n", "WARNING: DATA RACES\n"[:15]} {
		_, _ = w.Write([]byte(s))
	}
	if w.Races() != 0 || w.Excerpt() != "" {
		t.Errorf("races %d, excerpt %q in output without a report", w.Races(), w.Excerpt())
	}
}

func TestCountAndExcerpt(t *testing.T) {
	if Count("clean\n") != 0 || Excerpt("clean\n") != "" {
		t.Error("a clean output has a report")
	}
	out := "log\n" + report + report
	if Count(out) != 2 {
		t.Errorf("Count = %d, want 2", Count(out))
	}
	ex := Excerpt(out)
	if !strings.HasPrefix(ex, Marker) || strings.Count(ex, "\n") != excerptLines-1 {
		t.Errorf("Excerpt = %q, want %d lines from the marker", ex, excerptLines)
	}
}
