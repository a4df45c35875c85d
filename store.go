package apikey

import (
	"context"
	"net/netip"
	"time"
)

// Store persists key records. Implementations must be safe for concurrent
// use, must never hold a plaintext token (they only ever see Key values),
// and must not read the database's clock: every time they write comes from
// an argument. Times are UTC with microsecond precision (the Manager
// truncates them); a store returns them as it was given them.
//
// Errors: ErrNotFound for a missing ID or lookup value, ErrAlreadyExists for
// a duplicate ID or lookup value, ErrConflict where a method says so; any
// other error means the store could not answer and is wrapped by the caller
// as ErrStoreUnavailable. Returned keys belong to the caller (a store never
// hands out a record it will mutate later).
//
// The storetest package checks every contract below; run it against a new
// implementation.
type Store interface {
	// Create inserts k. It fails with ErrAlreadyExists if a key with the
	// same ID or Lookup exists, leaving the store unchanged.
	Create(ctx context.Context, k *Key) error

	// Get returns the key with the given ID, or ErrNotFound.
	Get(ctx context.Context, id string) (*Key, error)

	// GetByLookup returns the key whose Lookup equals lookup, or
	// ErrNotFound. Verify calls it once per uncached request, so it must be
	// a single indexed read: O(1) in the number of keys.
	GetByLookup(ctx context.Context, lookup string) (*Key, error)

	// List returns one page of a tenant's keys, newest first (by ID,
	// descending), filtered by opts. Pagination is by keyset: pass the
	// returned Page.Next as opts.After to get the next page; Next is empty on
	// the last page. An unknown tenant gives an empty page, not an error.
	List(ctx context.Context, tenant string, opts ListOptions) (Page, error)

	// Revoke sets RevokedAt to at if the key is not revoked yet, and returns
	// the key as stored afterwards. Revoking a revoked key changes nothing
	// (its first RevokedAt stays) and is not an error. A missing ID gives
	// ErrNotFound.
	Revoke(ctx context.Context, id string, at time.Time) (*Key, error)

	// RevokeAll sets RevokedAt to at on every key of tenant that is not
	// revoked yet (keys revoked earlier keep their timestamp), atomically,
	// and returns every key of the tenant afterwards, newest first, and the
	// IDs of exactly the keys this call revoked (in any order; none when it
	// changed nothing). A key revoked earlier at the same instant by another
	// call is not among them: the audit event names only this call's keys.
	RevokeAll(ctx context.Context, tenant string, at time.Time) (keys []*Key, revoked []string, err error)

	// Rotate performs r atomically: it inserts r.Successor (when non-nil)
	// and sets, on the key r.OldID, ReplacedBy = r.SuccessorID,
	// GraceExpiresAt = r.GraceExpiresAt, RevokedAt = r.RevokedAt (when
	// non-zero) and clears NextRotationAt. It fails with ErrConflict, leaving
	// the store unchanged, if the old key is already revoked or replaced;
	// of two concurrent rotations of one key exactly one succeeds. A missing
	// old key gives ErrNotFound. It returns the old key as stored afterwards.
	Rotate(ctx context.Context, r Rotation) (*Key, error)

	// Update changes the non-nil fields of u on the key id and returns the
	// key as stored afterwards, or ErrNotFound.
	Update(ctx context.Context, id string, u Update) (*Key, error)

	// Delete removes the key id for good and, in the same transaction,
	// appends a ChangeDeleted feed entry (its ID, lookup value and tenant,
	// stamped at), so that caches in other processes drop it. It returns
	// the key as it was stored just before. A missing ID gives ErrNotFound
	// and appends nothing; afterwards Get and GetByLookup give ErrNotFound
	// and List no longer shows the key.
	Delete(ctx context.Context, id string, at time.Time) (*Key, error)

	// UpgradeHash replaces the hash of key id with (version, hash) only if
	// its current version is still from; otherwise it changes nothing and
	// returns nil (someone else upgraded it first). at stamps the change-feed
	// entry. A missing ID gives ErrNotFound.
	UpgradeHash(ctx context.Context, id, from, version string, hash []byte, at time.Time) error

	// RecordUsage applies a batch of usage records, atomically. Each record
	// moves LastUsedAt (and LastUsedIP, LastUsedClient) forward only: a
	// record older than or equal to the stored LastUsedAt (or with a zero
	// At) changes nothing there. Each record's Counts are added to the
	// key's per-day counters whatever its At (a count is never lost for
	// being late). Records for missing keys are ignored, counts included.
	RecordUsage(ctx context.Context, batch []Usage) error

	// UsageCounts returns the per-day request counts that RecordUsage
	// added for key id, for days d with from <= d < to (both UTC
	// midnights), ordered by day then outcome; N is never 0. A key with
	// no counts (or a missing one) gives an empty result, not an error.
	UsageCounts(ctx context.Context, id string, from, to time.Time) ([]UsageCount, error)

	// DueForRotation returns up to limit active keys (not revoked, not
	// replaced) whose NextRotationAt is set and not after now, oldest due
	// first.
	DueForRotation(ctx context.Context, now time.Time, limit int) ([]*Key, error)

	// ClaimRotation moves the NextRotationAt of key id from due to next,
	// only if it still equals due, and reports whether it did. Several
	// processes racing for one due key: exactly one gets true. A missing ID
	// gives false and no error. next must read back exact to the
	// microsecond (as every time the store keeps): the scheduler derives the
	// ID of the successor it is about to create from it, so that the next
	// process to claim the key can revoke a successor a crashed attempt
	// left behind.
	ClaimRotation(ctx context.Context, id string, due, next time.Time) (bool, error)

	// ListUnused returns up to limit keys of every tenant that are not
	// revoked and whose last use (LastUsedAt, or CreatedAt for a key
	// never used) is strictly before cutoff, by ID ascending, starting
	// after the ID after ("" for the first call). It may scan the table:
	// it is meant for a periodic clean-up job, not for requests.
	ListUnused(ctx context.Context, cutoff time.Time, after string, limit int) ([]*Key, error)

	// ListExpiring returns up to opts.Limit keys that are not revoked and
	// not replaced, whose ExpiresAt is set with opts.From <= ExpiresAt <
	// opts.Before (of opts.Tenant only, when set), ordered by (ExpiresAt,
	// ID) and starting after the cursor (opts.AfterExpires, opts.AfterID).
	// Stores index expires_at: the read is a range of that index.
	ListExpiring(ctx context.Context, opts ExpiringOptions) ([]*Key, error)

	// ClaimNotice records that notice (such as "expiring/168h0m0s/<expiry>")
	// was sent for key id at at, and reports whether this call recorded it:
	// of several processes claiming one (id, notice) exactly one gets true,
	// and a claimed notice stays claimed until ReleaseNotice or Delete. A
	// missing key gives false and no error.
	ClaimNotice(ctx context.Context, id, notice string, at time.Time) (bool, error)

	// ReleaseNotice forgets a claimed notice (its delivery failed), so that
	// a later ClaimNotice can get it again. Releasing an unclaimed notice
	// does nothing.
	ReleaseNotice(ctx context.Context, id, notice string) error

	// Purge deletes keys that stopped working (revoked, expired or out of
	// grace) strictly before cutoff (with their usage counters and
	// notices), and change-feed entries older than
	// cutoff, oldest Seq first (it stops at the first entry that is not
	// older), and returns how many keys it deleted.
	Purge(ctx context.Context, cutoff time.Time) (int, error)

	// Changes returns up to limit change-feed entries with Seq > after, in
	// Seq order. Every Revoke (that changed something), RevokeAll, Rotate,
	// Update, UpgradeHash and Delete appends one entry per affected key in the same
	// transaction as the change. If entries after `after` were already
	// purged it returns ErrChangesTrimmed.
	Changes(ctx context.Context, after int64, limit int) ([]Change, error)

	// LastChange returns the Seq of the newest change-feed entry, or 0.
	// A follower starts from it.
	LastChange(ctx context.Context) (int64, error)

	// TakeCredits atomically applies a due refill to key id's credits (see
	// Credits.Refilled, at now) and takes min(want, remaining) of them. Of
	// concurrent takes, in any number of processes, no two are granted the
	// same credit. A key without credits gives Unlimited and takes nothing.
	// A missing ID gives ErrNotFound. No change-feed entry is written.
	TakeCredits(ctx context.Context, id string, want int64, now time.Time) (CreditLease, error)

	// ReturnCredits atomically adds n unspent credits back to key id, only
	// if its credit period (Credits.LastRefill) still equals period: after
	// a refill, or after Update set new credits, they are dropped. A
	// missing key or a key without credits changes nothing and is not an
	// error.
	ReturnCredits(ctx context.Context, id string, n int64, period time.Time) error
}

// SharedLookupStore is an optional extension of Store for stores whose
// records are immutable once written (a change replaces the record instead
// of modifying it), such as memstore. GetByLookupShared is GetByLookup
// without the copy: it returns the stored record itself, which nobody may
// ever modify. The Manager uses it for Verify, whose result is read-only
// anyway, and so saves the copy on every request.
//
// SharedStore must return the receiver itself. The Manager uses the shared
// read only when SharedStore() is the very Store it was given, so a wrapper
// that embeds a SharedLookupStore (to count or fail calls, say) keeps its
// own GetByLookup instead of silently losing it to a promoted method.
type SharedLookupStore interface {
	Store
	GetByLookupShared(ctx context.Context, lookup string) (*Key, error)
	SharedStore() Store
}

// ListFilter selects keys in List.
type ListFilter int

// List filters. "Active" is judged at ListOptions.At exactly as
// Key.StateAt judges it (a RevokedAt after At still counts as active).
const (
	ListAny     ListFilter = iota // every key, in any state
	ListActive                    // not revoked, not expired, not out of grace
	ListRevoked                   // revoked (RevokedAt set)
)

// ListOptions narrows a List call.
type ListOptions struct {
	// Filter selects keys; the zero value lists all.
	Filter ListFilter
	// At is the instant against which ListActive is judged.
	At time.Time
	// After is the cursor from a previous Page.Next; empty for the first page.
	After string
	// Limit is the page size; zero or negative means the store's default
	// (100), and stores cap it at 1000.
	Limit int
	// Owner, when not empty, lists only the tenant's keys whose Owner
	// equals it (byte for byte), still newest first and filtered by
	// Filter. Stores index (tenant, owner, id).
	Owner string
}

// Page is one page of List results.
type Page struct {
	// Keys are the keys of the page, newest first.
	Keys []*Key
	// Next is the cursor of the next page, or "" on the last page.
	Next string
}

// ExpiringOptions narrows Store.ListExpiring.
type ExpiringOptions struct {
	// From and Before bound ExpiresAt: From <= ExpiresAt < Before.
	From, Before time.Time
	// Tenant, when not empty, lists only that tenant's keys.
	Tenant string
	// AfterExpires and AfterID are the cursor: the ExpiresAt and ID of the
	// last key of the previous page (zero and "" for the first page).
	AfterExpires time.Time
	AfterID      string
	// Limit is the page size; zero or negative means no limit.
	Limit int
}

// Rotation describes one atomic rotation for Store.Rotate.
type Rotation struct {
	// OldID is the key being replaced.
	OldID string
	// SuccessorID is the key replacing it.
	SuccessorID string
	// Successor, when non-nil, is inserted in the same transaction (its ID
	// must equal SuccessorID). Nil means the successor already exists (a
	// scheduled rotation creates it before delivering it).
	Successor *Key
	// GraceExpiresAt is when the old key stops working.
	GraceExpiresAt time.Time
	// RevokedAt, when non-zero, revokes the old key at once (grace zero).
	RevokedAt time.Time
	// At is when the rotation happens (stamps the change-feed entry).
	At time.Time
}

// Update lists the fields Store.Update changes; nil fields are left alone.
// (Manager.Update takes UpdateParams and fills in At.)
type Update struct {
	// At is when the update happens (stamps the change-feed entry).
	At       time.Time
	Name     *string
	Scopes   *[]string
	Metadata *map[string]string
	// Disabled sets Key.Disabled.
	Disabled *bool
	// RateLimits replaces Key.RateLimits.
	RateLimits *[]RateLimit
	// Credits replaces Key.Credits (a nil *Credits removes them: unlimited).
	// The new credits start a new period: leases of the old one are not
	// handed back into it.
	Credits **Credits
	// IPAllowlist replaces Key.IPAllowlist.
	IPAllowlist *[]netip.Prefix

	// Key lifecycle fields (issue 18), grouped for merges. A pointer to
	// the zero time removes the expiry or the not-before time; a pointer
	// to "" removes the owner.
	ExpiresAt *time.Time
	NotBefore *time.Time
	Owner     *string
}

// Usage is one coalesced use of a key, for Store.RecordUsage.
type Usage struct {
	KeyID  string
	At     time.Time
	IP     string
	Client string
	// Counts are requests to add to the key's per-day counters (Day a UTC
	// midnight, Outcome 1-32 bytes of a-z, 0-9, '_', N positive).
	Counts []UsageCount
}

// ChangeKind says what a change-feed entry records.
type ChangeKind string

// Change kinds.
const (
	ChangeRevoked     ChangeKind = "revoked"
	ChangeRotated     ChangeKind = "rotated"
	ChangeUpdated     ChangeKind = "updated"
	ChangeHashUpgrade ChangeKind = "hash_upgraded"
	ChangeDeleted     ChangeKind = "deleted"
)

// Change is one change-feed entry: something happened to a key that caches
// in other processes must forget.
type Change struct {
	// Seq orders entries; it only grows.
	Seq int64
	// KeyID and Lookup identify the key (Lookup is what caches key on).
	KeyID  string
	Lookup string
	// Tenant owns the key.
	Tenant string
	// Kind says what happened.
	Kind ChangeKind
	// At is when it happened (the writer's clock).
	At time.Time
}
