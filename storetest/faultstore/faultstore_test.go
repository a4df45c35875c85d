package faultstore_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/memstore"
	"github.com/apikit/apikey/storetest"
	"github.com/apikit/apikey/storetest/faultstore"
)

// A healthy wrapper is transparent: it passes the whole conformance suite.
func TestConformanceWhenHealthy(t *testing.T) {
	storetest.Run(t, func(*testing.T) apikey.Store { return faultstore.New(memstore.New()) })
}

var errDown = errors.New("connection refused")

func seeded(t *testing.T) (*faultstore.Store, *apikey.Key) {
	t.Helper()
	k := &apikey.Key{
		ID: "01J00000000000000000000001", Tenant: "t", Lookup: "LOOKUPLOOKUPLOOKU",
		HashVersion: "v1", Hash: bytes.Repeat([]byte{7}, 32),
		CreatedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	s := faultstore.New(memstore.New())
	if err := s.Create(t.Context(), k); err != nil {
		t.Fatal(err)
	}
	return s, k
}

func TestFailAllAndNamed(t *testing.T) {
	s, k := seeded(t)
	ctx := t.Context()

	s.Fail(errDown)
	for _, call := range []func() error{
		func() error { _, err := s.Get(ctx, k.ID); return err },
		func() error { _, err := s.GetByLookup(ctx, k.Lookup); return err },
		func() error { return s.RecordUsage(ctx, nil) },
		func() error { _, err := s.LastChange(ctx); return err },
	} {
		if err := call(); !errors.Is(err, errDown) {
			t.Fatalf("with every method failing: got %v", err)
		}
	}

	s.Pass(faultstore.Get)
	if _, err := s.Get(ctx, k.ID); err != nil {
		t.Fatalf("Pass(Get) must override the store-wide fault: %v", err)
	}
	if _, err := s.LastChange(ctx); !errors.Is(err, errDown) {
		t.Fatalf("LastChange: got %v, want the store-wide fault", err)
	}

	s.Fail(errDown, faultstore.RecordUsage)
	s.Pass()
	if _, err := s.LastChange(ctx); err != nil {
		t.Fatalf("Pass() must heal every method: %v", err)
	}
	s.Fail(errDown, faultstore.RecordUsage)
	if err := s.RecordUsage(ctx, nil); !errors.Is(err, errDown) {
		t.Fatalf("RecordUsage: got %v, want the injected error", err)
	}

	s.Clear()
	if err := s.RecordUsage(ctx, nil); err != nil {
		t.Fatalf("after Clear: %v", err)
	}
	if got := s.Calls(faultstore.Get); got != 2 {
		t.Fatalf("Calls(Get) = %d, want 2", got)
	}
	if got := s.Faulted(); got != 6 {
		t.Fatalf("Faulted() = %d, want 6", got)
	}
	s.ResetCalls()
	if s.TotalCalls() != 0 || s.Faulted() != 0 {
		t.Fatal("ResetCalls left counters")
	}
}

func TestHangHonoursDeadline(t *testing.T) {
	s, k := seeded(t)
	s.Hang(faultstore.GetByLookup)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	_, err := s.GetByLookup(ctx, k.Lookup)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want the context's deadline error", err)
	}
	if _, err := s.Get(t.Context(), k.ID); err != nil {
		t.Fatalf("Get is not hung: %v", err)
	}
}

func TestHangReleasedByClear(t *testing.T) {
	s, k := seeded(t)
	s.Hang(faultstore.Get, faultstore.GetByLookup)
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	wg.Go(func() { _, err := s.Get(t.Context(), k.ID); errs <- err })
	wg.Go(func() { _, err := s.GetByLookup(t.Context(), k.Lookup); errs <- err })
	for s.Faulted() < 2 { // both calls are held
		time.Sleep(time.Millisecond)
	}
	s.Hang(faultstore.Get) // replacing one hang releases the calls it held
	s.Clear()              // and clearing releases the rest, once each
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("a released call must reach the inner store: %v", err)
		}
	}
}

func TestCorruptions(t *testing.T) {
	s, k := seeded(t)
	other := k.Clone()
	other.ID, other.Lookup, other.Hash = "01J00000000000000000000002", "OTHEROTHEROTHEROT", []byte{9}
	for _, tc := range []struct {
		name  string
		c     faultstore.Corruption
		check func(*apikey.Key) bool
	}{
		{"WrongHash", faultstore.WrongHash, func(g *apikey.Key) bool { return len(g.Hash) == 32 && !bytes.Equal(g.Hash, k.Hash) }},
		{"EmptyHash", faultstore.EmptyHash, func(g *apikey.Key) bool { return len(g.Hash) == 0 }},
		{"TruncatedHash", faultstore.TruncatedHash, func(g *apikey.Key) bool { return len(g.Hash) == 16 }},
		{"UnknownHashVersion", faultstore.UnknownHashVersion, func(g *apikey.Key) bool { return g.HashVersion == faultstore.UnknownVersion }},
		{"Substitute", faultstore.Substitute(other), func(g *apikey.Key) bool { return g.ID == other.ID && g.Lookup == other.Lookup }},
		{"Chain", faultstore.Chain(faultstore.Substitute(other), faultstore.UnknownHashVersion), func(g *apikey.Key) bool {
			return g.ID == other.ID && g.HashVersion == faultstore.UnknownVersion
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.Corrupt(tc.c, faultstore.GetByLookup)
			got, err := s.GetByLookup(t.Context(), k.Lookup)
			if err != nil || !tc.check(got) {
				t.Fatalf("got %+v (hash %x, version %q), %v", got, got.Hash, got.HashVersion, err)
			}
			clean, err := s.Get(t.Context(), k.ID)
			if err != nil || !bytes.Equal(clean.Hash, k.Hash) || clean.HashVersion != k.HashVersion {
				t.Fatalf("the stored record must stay intact: %+v, %v", clean, err)
			}
		})
	}
	s.Corrupt(faultstore.WrongHash, faultstore.GetByLookup)
	if _, err := s.GetByLookup(t.Context(), "NOSUCHLOOKUPVALUE"); !errors.Is(err, apikey.ErrNotFound) {
		t.Fatalf("a corruption must not invent records: %v", err)
	}
}

// Faults switch at runtime under concurrent callers without a race.
func TestConcurrentSwitching(t *testing.T) {
	s, k := seeded(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				c, stop := context.WithTimeout(ctx, time.Millisecond)
				_, _ = s.GetByLookup(c, k.Lookup)
				stop()
			}
		})
	}
	for i := range 200 {
		switch i % 4 {
		case 0:
			s.Fail(errDown)
		case 1:
			s.Hang(faultstore.GetByLookup)
		case 2:
			s.Corrupt(faultstore.WrongHash)
		default:
			s.Clear()
		}
	}
	s.Clear()
	wg.Wait()
	if got := s.Calls(faultstore.GetByLookup); got != 8*200 {
		t.Fatalf("Calls = %d, want %d", got, 8*200)
	}
}
