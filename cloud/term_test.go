package cloud

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestStopped(t *testing.T) {
	errDeposed := errors.New("leader key deleted")
	live := context.Background()
	cancelled, cancel := context.WithCancel(live)
	cancel()
	caused, cancelCause := context.WithCancelCause(live)
	cancelCause(errDeposed)
	expired, cancelExpired := context.WithDeadline(live, time.Unix(1, 0))
	defer cancelExpired()

	tests := []struct {
		name string
		ctx  context.Context
		want string
		is   []error
	}{
		{"live", live, "", nil},
		{"cancelled", cancelled, "create route: stopped: context canceled", []error{context.Canceled}},
		{"cancelled with a cause", caused, "create route: stopped: context canceled: leader key deleted", []error{context.Canceled, errDeposed}},
		{"deadline", expired, "create route: stopped: context deadline exceeded", []error{context.DeadlineExceeded}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Stopped(tt.ctx, "create route")
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("Stopped = %q, want %q", got, tt.want)
			}
			for _, target := range tt.is {
				if !errors.Is(err, target) {
					t.Errorf("errors.Is(%v, %v) = false", err, target)
				}
			}
		})
	}
}
