package hostcfg

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// stateDir is where vpcroute remembers what it changed on this host that
// iptables itself cannot tell apart later (a policy, a chain's creator).
type stateDir string

// read returns the trimmed content of the state file, "" if it is absent.
func (d stateDir) read(key string) (string, bool, error) {
	b, err := os.ReadFile(filepath.Join(string(d), key))
	if errors.Is(err, fs.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read state %s: %w", key, err)
	}
	return strings.TrimSpace(string(b)), true, nil
}

// write replaces the state file atomically (write, sync, rename), so a crash
// never leaves a half-written record of the policy to restore.
func (d stateDir) write(key, value string) error {
	if err := os.MkdirAll(string(d), 0o755); err != nil {
		return fmt.Errorf("write state %s: %w", key, err)
	}
	f, err := os.CreateTemp(string(d), "."+key+".tmp*")
	if err != nil {
		return fmt.Errorf("write state %s: %w", key, err)
	}
	_, werr := f.WriteString(value)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(f.Name(), filepath.Join(string(d), key))
	}
	if werr != nil {
		_ = os.Remove(f.Name()) // best effort; the write error is what matters
		return fmt.Errorf("write state %s: %w", key, werr)
	}
	return nil
}

// remove deletes the state file; an absent file is fine.
func (d stateDir) remove(key string) error {
	err := os.Remove(filepath.Join(string(d), key))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove state %s: %w", key, err)
	}
	return nil
}

// lock takes an exclusive lock on the state directory, so that two vpcroute
// processes (a daemon and a manual sync) never edit the chains at once. It
// waits for the lock until ctx is done. The returned function releases it.
func (d stateDir) lock(ctx context.Context) (func(), error) {
	if err := os.MkdirAll(string(d), 0o755); err != nil {
		return nil, fmt.Errorf("lock %s: %w", d, err)
	}
	path := filepath.Join(string(d), "lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			_ = f.Close() // the flock error is the one to report
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			_ = f.Close() // the context error is the one to report
			return nil, fmt.Errorf("lock %s: held by another vpcroute process: %w", path, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
	// Closing the file releases the lock.
	return func() { _ = f.Close() }, nil
}
