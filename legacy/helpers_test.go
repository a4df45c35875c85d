package legacy_test

import "time"

// Test values shared with the root package's tests.
var (
	testPepper = []byte("0123456789abcdef0123456789abcdef")
	pepperV1   = []byte("v1-pepper-0123456789abcdef0123456789")
	t0         = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)
