package cloud

import (
	"errors"
	"fmt"
)

// ErrQuotaExceeded is wrapped by QuotaError so callers can test with errors.Is.
var ErrQuotaExceeded = errors.New("route table quota exceeded")

// QuotaError says a route table cannot take more entries.
type QuotaError struct {
	TableID string
	// Quota is the table's limit, Used the entries it holds (0 if unknown).
	Quota, Used int
	// Code is the provider's error code.
	Code string
}

// Error names the table, the quota and how many entries it holds.
func (e *QuotaError) Error() string {
	return fmt.Sprintf("route table %s is full: it holds %d entries and its quota is %d (%s); raise the quota or remove entries",
		e.TableID, e.Used, e.Quota, e.Code)
}

// Unwrap lets errors.Is match ErrQuotaExceeded.
func (e *QuotaError) Unwrap() error { return ErrQuotaExceeded }
