package status

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// fakeClock returns times one second apart, starting at t0.
func fakeClock() func() time.Time {
	var mu sync.Mutex
	now := t0
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(time.Second)
		return now
	}
}

func TestErrorsNewestFirstAndBounded(t *testing.T) {
	e := &Errors{Now: fakeClock()}
	if got := e.List(); got == nil || len(got) != 0 {
		t.Fatalf("empty List() = %#v, want empty non-nil", got)
	}
	for i := range MaxErrors + 5 {
		e.Add("reconciler", fmt.Errorf("error %d", i))
	}
	got := e.List()
	if len(got) != MaxErrors {
		t.Fatalf("len = %d, want %d", len(got), MaxErrors)
	}
	for i, entry := range got {
		want := fmt.Sprintf("error %d", MaxErrors+4-i)
		if entry.Message != want || entry.Component != "reconciler" || entry.Count != 1 {
			t.Errorf("List()[%d] = %+v, want message %q", i, entry, want)
		}
		if i > 0 && !entry.Time.Before(got[i-1].Time) {
			t.Errorf("List()[%d] at %s not older than [%d] at %s", i, entry.Time, i-1, got[i-1].Time)
		}
	}
}

func TestErrorsRepeatCounts(t *testing.T) {
	e := &Errors{Now: fakeClock()}
	e.Add("hostcfg", errors.New("xtables lock"))
	e.Add("hostcfg", errors.New("xtables lock"))
	e.Add("registry", errors.New("xtables lock")) // other component: new entry
	e.Add("registry", errors.New("xtables lock"))
	e.Add("registry", errors.New("xtables lock"))
	e.Add("hostcfg", errors.New("xtables lock")) // not the newest any more: new entry
	e.Add("hostcfg", nil)                        // ignored
	got := e.List()
	want := []ErrorEntry{
		{Time: t0.Add(6 * time.Second), Component: "hostcfg", Message: "xtables lock", Count: 1},
		{Time: t0.Add(5 * time.Second), Component: "registry", Message: "xtables lock", Count: 3},
		{Time: t0.Add(2 * time.Second), Component: "hostcfg", Message: "xtables lock", Count: 2},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("List() =\n%v\nwant\n%v", got, want)
	}
}

func TestErrorsOneLine(t *testing.T) {
	e := &Errors{}
	e.Add("aliyun", errors.New("create route:\n  SDK.ServerError\r\n  ErrorCode: TaskConflict\n\n"))
	got := e.List()[0]
	if got.Message != "create route: SDK.ServerError; ErrorCode: TaskConflict" {
		t.Errorf("message = %q", got.Message)
	}
	if got.Time.IsZero() || got.Time.Location() != time.UTC {
		t.Errorf("time = %v, want the wall clock in UTC", got.Time)
	}
}

func TestErrorsConcurrent(t *testing.T) {
	var e Errors
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				e.Add(fmt.Sprintf("c%d", g), fmt.Errorf("e%d", i))
				_ = e.List()
			}
		})
	}
	wg.Wait()
	if n := len(e.List()); n != MaxErrors {
		t.Errorf("len = %d, want %d", n, MaxErrors)
	}
}
