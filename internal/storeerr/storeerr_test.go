package storeerr_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/internal/storeerr"
)

func TestWrap(t *testing.T) {
	if storeerr.Wrap("get", nil) != nil {
		t.Fatal("Wrap(nil) != nil")
	}
	for _, e := range []error{apikey.ErrNotFound, apikey.ErrConflict, apikey.ErrAlreadyExists, apikey.ErrInvalid, apikey.ErrChangesTrimmed} {
		in := fmt.Errorf("store: %w", e)
		if got := storeerr.Wrap("get", in); got != in {
			t.Errorf("sentinel %v: got %v, want it unchanged", e, got)
		}
	}
	cause := errors.New("connection refused")
	got := storeerr.Wrap("list", cause)
	if !errors.Is(got, apikey.ErrStoreUnavailable) || !errors.Is(got, cause) || got.Error() != "apikey: store unavailable: list: connection refused" {
		t.Errorf("got %v", got)
	}
}
