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
//     safety for concurrent use: the suite calls one store from up to 16
//     goroutines, so a store that serialises writers must wait (not fail)
//     when the database is busy.
//   - Times come back exactly as given: UTC, microsecond precision (the
//     suite only stores such times). Strings are compared byte for byte: a
//     store must not fold case, accents or trailing spaces in IDs, lookup
//     values or tenants.
//   - A cancelled context makes every method fail.
//
// The suite writes only Key values it builds itself (ULID IDs, random
// lookup values, times from a fixed base in 2030); it never reads the wall
// clock for a stored value, so a store must not either. It creates about a
// thousand keys in total and is meant to run in seconds against a local
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
		{"Update", updateCases},
		{"UpgradeHash", upgradeHashCases},
		{"RecordUsage", usageCases},
		{"DueForRotation", dueCases},
		{"ClaimRotation", claimCases},
		{"Purge", purgeCases},
		{"Changes", changesCases},
		{"Context", contextCases},
		{"Concurrency", concurrencyCases},
	}
}
