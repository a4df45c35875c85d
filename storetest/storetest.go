package storetest

import (
	"testing"

	"github.com/apikit/apikey"
)

// Run checks that the stores newStore returns meet every apikey.Store
// contract, in subtests named for the method and the contract, such as
// "Create/DuplicateLookup" or "Concurrency/Rotate".
//
// What the store must provide:
//
//   - newStore returns a fresh, empty store each time it is called (once per
//     subtest; a SQL store would use a new schema or database and register
//     its cleanup with t.Cleanup). It is called sequentially, never in
//     parallel.
//   - Every method of apikey.Store with its documented contract, including
//     the sentinel errors (checked with errors.Is), the change feed, and
//     safety for concurrent use: the suite calls one store from 12
//     goroutines at once, so a store that serialises writers must wait (not
//     fail) while the database is busy, and conditional writes (Revoke,
//     Rotate, ClaimRotation, UpgradeHash) must be atomic.
//   - A cancelled context makes every method fail and change nothing.
//
// Where the interface's comments leave room, the suite expects:
//
//   - Every time comes back as the same instant in time.UTC (not
//     time.Local), including times before 1970 and after 2038; durations
//     come back to the nanosecond; nil and empty slices and maps are equal.
//   - IDs, lookup values and tenants compare byte for byte: no folding of
//     case, accents or trailing spaces (on MySQL, a binary collation).
//     Get and GetByLookup of any string, however long or odd, give
//     ErrNotFound rather than another error.
//   - A returned Key shares no memory with the store, hash and webhook
//     secret bytes included, and the store keeps its own copy of what it is
//     given.
//   - ListActive judges keys exactly like Key.StateAt at ListOptions.At (a
//     key revoked after At is active at At); ListRevoked lists keys with
//     RevokedAt set.
//   - Purge deletes keys whose end (the earliest of RevokedAt,
//     GraceExpiresAt and ExpiresAt) is strictly before the cutoff.
//   - Only the calls the contract names write to the change feed, and only
//     when they change something: Create, RecordUsage, ClaimRotation, Purge,
//     a repeated Revoke, a stale UpgradeHash, a refused Rotate and a Delete of a missing key append
//     nothing. Seq values must grow but need not be dense; LastChange keeps
//     its value after Purge trims every entry.
//   - Key controls (Disabled, RateLimits, Credits, IPAllowlist) round-trip
//     like every other field; TakeCredits never grants one credit twice,
//     even from 12 goroutines at once, applies refills at the given instant
//     and writes nothing when it takes nothing; ReturnCredits adds back only
//     into the same credit period.
//   - A Rotate whose successor clashes with an existing ID or lookup value
//     fails with ErrAlreadyExists and changes nothing; a key with RevokedAt
//     set, even in the future, cannot be rotated (ErrConflict).
//
// The suite writes only Key values it builds itself (ULID IDs, random
// lookup values, times from a fixed base in 2030); it never reads the wall
// clock for a stored value, so a store must not either. It creates about
// 1,500 keys in total and is meant to run in seconds against a local
// database.
func Run(t *testing.T, newStore func(t *testing.T) apikey.Store) {
	t.Helper()
	for _, g := range groups() {
		t.Run(g.name, func(t *testing.T) {
			for _, c := range g.cases {
				t.Run(c.name, func(t *testing.T) {
					c.run(newFixture(t, newStore))
				})
			}
		})
	}
}

// group is the set of contracts of one method or area.
type group struct {
	name  string
	cases []testCase
}

// testCase checks one contract on a fresh store.
type testCase struct {
	name string
	run  func(f *fixture)
}

// groups lists every contract the suite checks, in run order.
func groups() []group {
	return []group{
		{"Create", createCases},
		{"Get", getCases},
		{"GetByLookup", getByLookupCases},
		{"RoundTrip", roundTripCases},
		{"List", listCases},
		{"Revoke", revokeCases},
		{"RevokeAll", revokeAllCases},
		{"Rotate", rotateCases},
		{"Update", append(updateCases, lifecycleUpdateCases...)},
		{"Delete", deleteCases},
		{"Owner", ownerCases},
		{"UpgradeHash", upgradeHashCases},
		{"RecordUsage", usageCases},
		{"UsageCounts", usageCountCases},
		{"DueForRotation", dueCases},
		{"ClaimRotation", claimCases},
		{"Credits", creditsCases},
		{"ListUnused", unusedCases},
		{"ListExpiring", expiringCases},
		{"Notices", noticeCases},
		{"Purge", purgeCases},
		{"Changes", changesCases},
		{"Context", contextCases},
		{"Concurrency", concurrencyCases},
	}
}
