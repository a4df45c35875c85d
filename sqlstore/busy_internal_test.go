package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

type codeErr int

func (c codeErr) Error() string { return fmt.Sprintf("sqlite error %d", int(c)) }
func (c codeErr) Code() int     { return int(c) }

func TestIsBusy(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{codeErr(5), true},
		{fmt.Errorf("wrapped: %w", codeErr(517)), true}, // SQLITE_BUSY_SNAPSHOT
		{codeErr(6), true},
		{codeErr(1), false},
		{errors.New("database is locked"), true},
		{errors.New("no such table: apikey_meta"), false},
	} {
		if got := isBusy(tc.err); got != tc.want {
			t.Errorf("isBusy(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestRetryBusy(t *testing.T) {
	ctx := context.Background()
	calls := 0
	err := retryBusy(ctx, func() error {
		if calls++; calls < 3 {
			return codeErr(5)
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Errorf("busy twice then ok: err %v after %d calls, want nil after 3", err, calls)
	}
	calls = 0
	boom := errors.New("disk I/O error")
	if err := retryBusy(ctx, func() error { calls++; return boom }); !errors.Is(err, boom) || calls != 1 {
		t.Errorf("other error: %v after %d calls, want it at once", err, calls)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	calls = 0
	if err := retryBusy(cctx, func() error { calls++; return codeErr(5) }); !isBusy(err) || calls != 1 {
		t.Errorf("cancelled context: %v after %d calls, want the busy error after 1", err, calls)
	}
}
