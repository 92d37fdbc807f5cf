package callretry

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/vpcroute/vpcroute/cloud"
)

var errBusy = errors.New("busy")

func policy(timeout time.Duration) Policy {
	return Policy{
		Wrap:      func(action string, err error) error { return errors.Join(errors.New(action), err) },
		Retryable: func(err error) bool { return errors.Is(err, errBusy) },
		Code:      func(error) string { return "Busy" },
		Throttled: func(error) bool { return false },
		Timeout:   timeout,
		Log:       zap.NewNop(),
	}
}

func TestDoRetriesUntilSuccess(t *testing.T) {
	calls := 0
	v, err := Do(context.Background(), policy(time.Minute), "Act", func(context.Context) (int, error) {
		calls++
		if calls < 3 {
			return 0, errBusy
		}
		return 42, nil
	})
	if err != nil || v != 42 || calls != 3 {
		t.Fatalf("v=%d err=%v calls=%d", v, err, calls)
	}
}

func TestDoStopsAtOnceOnAPermanentError(t *testing.T) {
	calls := 0
	_, err := Do(context.Background(), policy(time.Minute), "Act", func(context.Context) (int, error) {
		calls++
		return 0, errors.New("denied")
	})
	if calls != 1 || err == nil || strings.Contains(err.Error(), "gave up") {
		t.Fatalf("calls=%d err=%v", calls, err)
	}
}

func TestDoSaysHowOftenItTried(t *testing.T) {
	calls := 0
	// 2 s leaves room for the first wait (500 ms ± 50 %) and a second try.
	_, err := Do(context.Background(), policy(2*time.Second), "Act", func(context.Context) (int, error) {
		calls++
		return 0, errBusy
	})
	if calls < 2 || err == nil || !strings.Contains(err.Error(), "gave up after") {
		t.Fatalf("calls=%d err=%v", calls, err)
	}
}

func TestDoBeforeErrorEndsTheRetries(t *testing.T) {
	pol := policy(time.Minute)
	pol.Before = func(context.Context, string) error { return errors.New("no budget") }
	calls := 0
	_, err := Do(context.Background(), pol, "Act", func(context.Context) (int, error) { calls++; return 0, nil })
	if calls != 0 || err == nil || err.Error() != "no budget" {
		t.Fatalf("calls=%d err=%v", calls, err)
	}
}

func TestDoSendsNothingOnceCtxEnded(t *testing.T) {
	errDeposed := errors.New("leader key deleted")
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errDeposed)
	pol := policy(time.Minute)
	before := 0
	pol.Before = func(context.Context, string) error { before++; return nil }
	calls := 0
	_, err := Do(ctx, pol, "CreateRoute", func(context.Context) (int, error) { calls++; return 0, nil })
	if calls != 0 || before != 0 {
		t.Errorf("an ended ctx still made %d calls (%d Before)", calls, before)
	}
	if !errors.Is(err, context.Canceled) || !errors.Is(err, errDeposed) || !strings.HasPrefix(err.Error(), "CreateRoute: stopped: ") {
		t.Errorf("err = %v; want CreateRoute: stopped, wrapping context.Canceled and the cause", err)
	}
}

func TestDoStopsWaitingWhenCtxEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pol := policy(time.Minute)
	// Code is asked for the retry log line, just before the wait: the
	// term ends there, while Do is about to wait for the next try.
	pol.Code = func(error) string { cancel(); return "Busy" }
	calls := 0
	_, err := Do(ctx, pol, "CreateRoute", func(context.Context) (int, error) { calls++; return 0, errBusy })
	if calls != 1 {
		t.Errorf("calls = %d after the ctx ended in the wait, want 1", calls)
	}
	if !errors.Is(err, context.Canceled) || !errors.Is(err, errBusy) ||
		!strings.HasPrefix(err.Error(), "CreateRoute: stopped: context canceled (after 1 tries") {
		t.Errorf("err = %v; want CreateRoute stopped after 1 try, naming the last answer", err)
	}
}

// Every attempt, failed or not, is reported to the context's progress
// hook: a call retried for minutes under throttling is moving, not stuck.
func TestDoReportsEveryAttemptAsProgress(t *testing.T) {
	steps, calls := 0, 0
	ctx := cloud.WithProgress(context.Background(), func() { steps++ })
	_, err := Do(ctx, policy(time.Minute), "Act", func(context.Context) (int, error) {
		calls++
		if steps != calls-1 {
			t.Errorf("attempt %d ran after %d progress reports, want %d", calls, steps, calls-1)
		}
		if calls < 3 {
			return 0, errBusy
		}
		return 1, nil
	})
	if err != nil || calls != 3 || steps != 3 {
		t.Fatalf("err=%v calls=%d progress=%d, want 3 calls and 3 reports", err, calls, steps)
	}
}
