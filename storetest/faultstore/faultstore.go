// Package faultstore wraps an apikey.Store to inject faults on command: every
// call (or the calls of named methods) can fail with an error, hang until its
// context is done, or return garbage records; every call is counted. Faults
// are switched at runtime and the wrapper is safe for concurrent use, so a
// test can break a store under a live Manager or HTTP server and repair it
// again without a restart.
//
//	fs := faultstore.New(memstore.New())
//	m, _ := apikey.New(fs, apikey.WithPepper("v1", pepper))
//	fs.Fail(errors.New("connection refused"))     // every method fails
//	_, err := m.Verify(ctx, tok)                   // errors.Is(err, apikey.ErrStoreUnavailable)
//	fs.Hang(faultstore.GetByLookup)                // reads block until ctx is done
//	fs.Corrupt(faultstore.WrongHash)               // records come back damaged
//	fs.Clear()                                     // healthy again
//
// It lives beside the conformance suite because it serves the same purpose:
// checking that code built on a Store behaves when the store does not.
package faultstore

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apikit/apikey"
)

var _ apikey.Store = (*Store)(nil)

// Method names one method of apikey.Store.
type Method string

// The methods of apikey.Store.
const (
	Create         Method = "Create"
	Get            Method = "Get"
	GetByLookup    Method = "GetByLookup"
	List           Method = "List"
	Revoke         Method = "Revoke"
	RevokeAll      Method = "RevokeAll"
	Rotate         Method = "Rotate"
	Update         Method = "Update"
	Delete         Method = "Delete"
	UpgradeHash    Method = "UpgradeHash"
	RecordUsage    Method = "RecordUsage"
	UsageCounts    Method = "UsageCounts"
	DueForRotation Method = "DueForRotation"
	ClaimRotation  Method = "ClaimRotation"
	ListUnused     Method = "ListUnused"
	ListExpiring   Method = "ListExpiring"
	ClaimNotice    Method = "ClaimNotice"
	ReleaseNotice  Method = "ReleaseNotice"
	Purge          Method = "Purge"
	Changes        Method = "Changes"
	LastChange     Method = "LastChange"
	TakeCredits    Method = "TakeCredits"
	ReturnCredits  Method = "ReturnCredits"
)

// Methods lists every Method, in the order of the Store interface.
var Methods = []Method{
	Create, Get, GetByLookup, List, Revoke, RevokeAll, Rotate, Update, Delete,
	UpgradeHash, RecordUsage, UsageCounts, DueForRotation, ClaimRotation, ListUnused, ListExpiring, ClaimNotice, ReleaseNotice,
	Purge, Changes, LastChange, TakeCredits, ReturnCredits,
}

// kind is what a fault does.
type kind int

const (
	pass kind = iota
	fail
	hang
	corrupt
)

// fault is the behaviour set for one method.
type fault struct {
	kind    kind
	err     error
	corrupt Corruption
	// release opens when a hang fault is replaced or cleared, letting the
	// calls it holds continue to the inner store.
	release *gate
}

// gate is a channel closed at most once, however many methods share it.
type gate struct {
	once sync.Once
	ch   chan struct{}
}

func (g *gate) open() { g.once.Do(func() { close(g.ch) }) }

// Store is an apikey.Store that forwards to an inner store unless a fault is
// set. A fault set without naming methods applies to every method and
// replaces all earlier faults; a fault set for named methods overrides the
// store-wide one for those methods only. The zero value is not usable; call
// New.
type Store struct {
	inner apikey.Store

	mu     sync.RWMutex
	all    fault            // applies to methods without their own fault
	faults map[Method]fault // per-method faults, set by calls naming methods

	calls   map[Method]*atomic.Int64
	faulted atomic.Int64
}

// New returns a healthy wrapper around inner.
func New(inner apikey.Store) *Store {
	s := &Store{inner: inner, faults: map[Method]fault{}, calls: make(map[Method]*atomic.Int64, len(Methods))}
	for _, m := range Methods {
		s.calls[m] = new(atomic.Int64)
	}
	return s
}

// Inner returns the wrapped store, for setting up state behind the faults.
func (s *Store) Inner() apikey.Store { return s.inner }

// Fail makes calls of the given methods (every method when none is named)
// return err without reaching the inner store. A non-sentinel err is what a
// broken database looks like to the Manager: ErrStoreUnavailable.
func (s *Store) Fail(err error, methods ...Method) {
	s.set(fault{kind: fail, err: err}, methods)
}

// Hang makes calls of the given methods (every method when none is named)
// block until their context is done, then return the context's error. Calls
// still blocked when the fault is replaced or cleared continue to the inner
// store, like a stalled database that comes back.
func (s *Store) Hang(methods ...Method) {
	s.set(fault{kind: hang, release: &gate{ch: make(chan struct{})}}, methods)
}

// Corrupt makes the given methods (every method when none is named) pass
// each key they return through c before handing it out: the inner store
// answers, but the records are damaged.
func (s *Store) Corrupt(c Corruption, methods ...Method) {
	s.set(fault{kind: corrupt, corrupt: c}, methods)
}

// Pass makes calls of the given methods (every method when none is named)
// forward to the inner store, overriding a store-wide fault: Fail(err)
// then Pass(RecordUsage) breaks everything but usage writes.
func (s *Store) Pass(methods ...Method) {
	s.set(fault{kind: pass}, methods)
}

// Clear removes every fault: the store forwards every call again, and calls
// held by Hang continue.
func (s *Store) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	releaseHang(s.all)
	for _, f := range s.faults {
		releaseHang(f)
	}
	s.all = fault{}
	clear(s.faults)
}

func (s *Store) set(f fault, methods []Method) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(methods) == 0 {
		releaseHang(s.all)
		for _, old := range s.faults {
			releaseHang(old)
		}
		s.all = f
		clear(s.faults)
		return
	}
	for _, m := range methods {
		releaseHang(s.faults[m])
		s.faults[m] = f
	}
}

func releaseHang(f fault) {
	if f.kind == hang {
		f.release.open()
	}
}

// Calls returns how many times method was called, faulted or not.
func (s *Store) Calls(method Method) int64 {
	if c := s.calls[method]; c != nil {
		return c.Load()
	}
	return 0
}

// TotalCalls returns the number of calls of every method.
func (s *Store) TotalCalls() int64 {
	var n int64
	for _, c := range s.calls {
		n += c.Load()
	}
	return n
}

// Faulted returns how many calls a fault changed: failed, hung or corrupted.
func (s *Store) Faulted() int64 { return s.faulted.Load() }

// ResetCalls zeroes the call and fault counters.
func (s *Store) ResetCalls() {
	for _, c := range s.calls {
		c.Store(0)
	}
	s.faulted.Store(0)
}

// enter counts a call of m and applies its fault: it returns a non-nil error
// if the call must not reach the inner store, and the corruption to apply to
// what it returns (nil for none).
func (s *Store) enter(ctx context.Context, m Method) (Corruption, error) {
	s.calls[m].Add(1)
	s.mu.RLock()
	f, ok := s.faults[m]
	if !ok {
		f = s.all
	}
	s.mu.RUnlock()
	switch f.kind {
	case fail:
		s.faulted.Add(1)
		return nil, f.err
	case hang:
		s.faulted.Add(1)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-f.release.ch:
			return nil, nil
		}
	case corrupt:
		s.faulted.Add(1)
		return f.corrupt, nil
	}
	return nil, nil
}

// key applies c to k, a record the inner store returned.
func key(c Corruption, k *apikey.Key) *apikey.Key {
	if c == nil || k == nil {
		return k
	}
	return c(k)
}

// keys applies c to every record of ks.
func keys(c Corruption, ks []*apikey.Key) []*apikey.Key {
	if c == nil {
		return ks
	}
	for i, k := range ks {
		ks[i] = key(c, k)
	}
	return ks
}

// Create implements apikey.Store.
func (s *Store) Create(ctx context.Context, k *apikey.Key) error {
	if _, err := s.enter(ctx, Create); err != nil {
		return err
	}
	return s.inner.Create(ctx, k)
}

// Get implements apikey.Store.
func (s *Store) Get(ctx context.Context, id string) (*apikey.Key, error) {
	c, err := s.enter(ctx, Get)
	if err != nil {
		return nil, err
	}
	k, err := s.inner.Get(ctx, id)
	return key(c, k), err
}

// GetByLookup implements apikey.Store.
func (s *Store) GetByLookup(ctx context.Context, lookup string) (*apikey.Key, error) {
	c, err := s.enter(ctx, GetByLookup)
	if err != nil {
		return nil, err
	}
	k, err := s.inner.GetByLookup(ctx, lookup)
	return key(c, k), err
}

// List implements apikey.Store.
func (s *Store) List(ctx context.Context, tenant string, opts apikey.ListOptions) (apikey.Page, error) {
	c, err := s.enter(ctx, List)
	if err != nil {
		return apikey.Page{}, err
	}
	p, err := s.inner.List(ctx, tenant, opts)
	p.Keys = keys(c, p.Keys)
	return p, err
}

// Revoke implements apikey.Store.
func (s *Store) Revoke(ctx context.Context, id string, at time.Time) (*apikey.Key, error) {
	c, err := s.enter(ctx, Revoke)
	if err != nil {
		return nil, err
	}
	k, err := s.inner.Revoke(ctx, id, at)
	return key(c, k), err
}

// RevokeAll implements apikey.Store.
func (s *Store) RevokeAll(ctx context.Context, tenant string, at time.Time) ([]*apikey.Key, []string, error) {
	c, err := s.enter(ctx, RevokeAll)
	if err != nil {
		return nil, nil, err
	}
	ks, revoked, err := s.inner.RevokeAll(ctx, tenant, at)
	return keys(c, ks), revoked, err
}

// Rotate implements apikey.Store.
func (s *Store) Rotate(ctx context.Context, r apikey.Rotation) (*apikey.Key, error) {
	c, err := s.enter(ctx, Rotate)
	if err != nil {
		return nil, err
	}
	k, err := s.inner.Rotate(ctx, r)
	return key(c, k), err
}

// Update implements apikey.Store.
func (s *Store) Update(ctx context.Context, id string, u apikey.Update) (*apikey.Key, error) {
	c, err := s.enter(ctx, Update)
	if err != nil {
		return nil, err
	}
	k, err := s.inner.Update(ctx, id, u)
	return key(c, k), err
}

// UpgradeHash implements apikey.Store.
func (s *Store) UpgradeHash(ctx context.Context, id, from, version string, hash []byte, at time.Time) error {
	if _, err := s.enter(ctx, UpgradeHash); err != nil {
		return err
	}
	return s.inner.UpgradeHash(ctx, id, from, version, hash, at)
}

// RecordUsage implements apikey.Store.
func (s *Store) RecordUsage(ctx context.Context, batch []apikey.Usage) error {
	if _, err := s.enter(ctx, RecordUsage); err != nil {
		return err
	}
	return s.inner.RecordUsage(ctx, batch)
}

// DueForRotation implements apikey.Store.
func (s *Store) DueForRotation(ctx context.Context, now time.Time, limit int) ([]*apikey.Key, error) {
	c, err := s.enter(ctx, DueForRotation)
	if err != nil {
		return nil, err
	}
	ks, err := s.inner.DueForRotation(ctx, now, limit)
	return keys(c, ks), err
}

// ClaimRotation implements apikey.Store.
func (s *Store) ClaimRotation(ctx context.Context, id string, due, next time.Time) (bool, error) {
	if _, err := s.enter(ctx, ClaimRotation); err != nil {
		return false, err
	}
	return s.inner.ClaimRotation(ctx, id, due, next)
}

// Purge implements apikey.Store.
func (s *Store) Purge(ctx context.Context, cutoff time.Time) (int, error) {
	if _, err := s.enter(ctx, Purge); err != nil {
		return 0, err
	}
	return s.inner.Purge(ctx, cutoff)
}

// Changes implements apikey.Store.
func (s *Store) Changes(ctx context.Context, after int64, limit int) ([]apikey.Change, error) {
	if _, err := s.enter(ctx, Changes); err != nil {
		return nil, err
	}
	return s.inner.Changes(ctx, after, limit)
}

// LastChange implements apikey.Store.
func (s *Store) LastChange(ctx context.Context) (int64, error) {
	if _, err := s.enter(ctx, LastChange); err != nil {
		return 0, err
	}
	return s.inner.LastChange(ctx)
}

// TakeCredits implements apikey.Store.
func (s *Store) TakeCredits(ctx context.Context, id string, want int64, now time.Time) (apikey.CreditLease, error) {
	if _, err := s.enter(ctx, TakeCredits); err != nil {
		return apikey.CreditLease{}, err
	}
	return s.inner.TakeCredits(ctx, id, want, now)
}

// ReturnCredits implements apikey.Store.
func (s *Store) ReturnCredits(ctx context.Context, id string, n int64, period time.Time) error {
	if _, err := s.enter(ctx, ReturnCredits); err != nil {
		return err
	}
	return s.inner.ReturnCredits(ctx, id, n, period)
}
