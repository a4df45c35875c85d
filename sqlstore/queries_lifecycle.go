package sqlstore

import (
	"fmt"
	"strings"
)

// lcQueries holds the statements of the key-lifecycle features (hard
// delete, expiry changes, owners...), per dialect, beside queries and in
// the same style: $n placeholders for PostgreSQL, ? elsewhere, default
// table names renamed by WithTable.
type lcQueries struct {
	deleteKey string // id
	// updateLifecycle: setExpiry (1/0), expiry, setNotBefore (1/0),
	// notBefore, owner (NULL keeps), id.
	updateLifecycle string
	// listOwner[filter][after]: tenant, owner, [after,] [at, at, at,]
	// limit; filter is apikey.ListAll, ListActive or ListRevoked.
	listOwner [3][2]string

	addUsage    string // day, outcome, n, id: add to a counter of an existing key
	usageCounts string // id, from, to
	deleteUsage string // id
	listUnused  string // after, cutoff, limit

	// listExpiring[tenant?]: from, before, afterExp, afterExp, afterID,
	// [tenant,] limit.
	listExpiring  [2]string
	claimNotice   string // id, notice, at, id: insert if absent, for an existing key
	releaseNotice string // id, notice
	deleteNotices string // id

	// purgeUsage, purgeNotices: cutoff x3, the rows of the keys Purge
	// deletes (run before it, with the same condition).
	purgeUsage   string
	purgeNotices string
}

var sqliteLC = lcQueries{
	deleteKey: `DELETE FROM apikey_keys WHERE id = ?`,
	updateLifecycle: `UPDATE apikey_keys SET expires_at = CASE WHEN ? = 1 THEN ? ELSE expires_at END,
		not_before = CASE WHEN ? = 1 THEN ? ELSE not_before END, owner = COALESCE(?, owner) WHERE id = ?`,
	addUsage: `INSERT INTO apikey_usage (key_id, day, outcome, n) SELECT id, ?, ?, ? FROM apikey_keys WHERE id = ?
		ON CONFLICT (key_id, day, outcome) DO UPDATE SET n = n + excluded.n`,
	usageCounts: `SELECT day, outcome, n FROM apikey_usage WHERE key_id = ? AND day >= ? AND day < ? ORDER BY day, outcome`,
	deleteUsage: `DELETE FROM apikey_usage WHERE key_id = ?`,
	listUnused: selectKeys + ` WHERE id > ? AND revoked_at IS NULL AND COALESCE(last_used_at, created_at) < ?
		ORDER BY id LIMIT ?`,
	claimNotice: `INSERT INTO apikey_notices (key_id, notice, at) SELECT id, ?, ? FROM apikey_keys WHERE id = ?
		ON CONFLICT (key_id, notice) DO NOTHING`,
	releaseNotice: `DELETE FROM apikey_notices WHERE key_id = ? AND notice = ?`,
	deleteNotices: `DELETE FROM apikey_notices WHERE key_id = ?`,
}

var postgresLC = lcQueries{
	deleteKey: `DELETE FROM apikey_keys WHERE id = $1`,
	updateLifecycle: `UPDATE apikey_keys SET expires_at = CASE WHEN $1::int = 1 THEN $2::timestamptz ELSE expires_at END,
		not_before = CASE WHEN $3::int = 1 THEN $4::timestamptz ELSE not_before END, owner = COALESCE($5::text, owner) WHERE id = $6`,
	addUsage: `INSERT INTO apikey_usage (key_id, day, outcome, n) SELECT id, $1::timestamptz, $2::text, $3::bigint FROM apikey_keys WHERE id = $4
		ON CONFLICT (key_id, day, outcome) DO UPDATE SET n = apikey_usage.n + EXCLUDED.n`,
	usageCounts: `SELECT day, outcome, n FROM apikey_usage WHERE key_id = $1 AND day >= $2 AND day < $3 ORDER BY day, outcome`,
	deleteUsage: `DELETE FROM apikey_usage WHERE key_id = $1`,
	listUnused: selectKeys + ` WHERE id > $1 AND revoked_at IS NULL AND COALESCE(last_used_at, created_at) < $2
		ORDER BY id LIMIT $3`,
	claimNotice: `INSERT INTO apikey_notices (key_id, notice, at) SELECT id, $1::text, $2::timestamptz FROM apikey_keys WHERE id = $3
		ON CONFLICT (key_id, notice) DO NOTHING`,
	releaseNotice: `DELETE FROM apikey_notices WHERE key_id = $1 AND notice = $2`,
	deleteNotices: `DELETE FROM apikey_notices WHERE key_id = $1`,
}

var mysqlLC = lcQueries{
	deleteKey: `DELETE FROM apikey_keys WHERE id = ?`,
	updateLifecycle: `UPDATE apikey_keys SET expires_at = CASE WHEN ? = 1 THEN ? ELSE expires_at END,
		not_before = CASE WHEN ? = 1 THEN ? ELSE not_before END, owner = COALESCE(?, owner) WHERE id = ?`,
	addUsage: `INSERT INTO apikey_usage (key_id, day, outcome, n) SELECT id, ?, ?, ? FROM apikey_keys WHERE id = ?
		ON DUPLICATE KEY UPDATE n = n + VALUES(n)`,
	usageCounts: `SELECT day, outcome, n FROM apikey_usage WHERE key_id = ? AND day >= ? AND day < ? ORDER BY day, outcome`,
	deleteUsage: `DELETE FROM apikey_usage WHERE key_id = ?`,
	listUnused: selectKeys + ` WHERE id > ? AND revoked_at IS NULL AND COALESCE(last_used_at, created_at) < ?
		ORDER BY id LIMIT ?`,
	claimNotice:   `INSERT IGNORE INTO apikey_notices (key_id, notice, at) SELECT id, ?, ? FROM apikey_keys WHERE id = ?`,
	releaseNotice: `DELETE FROM apikey_notices WHERE key_id = ? AND notice = ?`,
	deleteNotices: `DELETE FROM apikey_notices WHERE key_id = ?`,
}

var dialectLC = map[Dialect]lcQueries{
	SQLite:   sqliteLC.withOwnerLists(false).withExpiringLists(false).withPurges(false),
	Postgres: postgresLC.withOwnerLists(true).withExpiringLists(true).withPurges(true),
	MySQL:    mysqlLC.withOwnerLists(false).withExpiringLists(false).withPurges(false),
}

// withOwnerLists fills listOwner: List with ListOptions.Owner, one range
// read of the (tenant, owner, id) index below the cursor. The six
// statements differ only in their filter, so they are built here rather
// than written out; numbered turns ? into $1, $2... for PostgreSQL.
func (q lcQueries) withOwnerLists(numbered bool) lcQueries {
	filters := [3]string{"", activeQ, ` AND revoked_at IS NOT NULL`}
	for f, clause := range filters {
		for a, cursor := range [2]string{"", ` AND id < ?`} {
			st := selectKeys + ` WHERE tenant = ? AND owner = ?` + cursor + clause + ` ORDER BY id DESC LIMIT ?`
			if numbered {
				st = numberPlaceholders(st)
			}
			q.listOwner[f][a] = st
		}
	}
	return q
}

// withExpiringLists fills listExpiring: a range of the (expires_at, id)
// index from the cursor, optionally for one tenant.
func (q lcQueries) withExpiringLists(numbered bool) lcQueries {
	for i, tenant := range [2]string{"", ` AND tenant = ?`} {
		st := selectKeys + ` WHERE expires_at >= ? AND expires_at < ? AND (expires_at > ? OR (expires_at = ? AND id > ?))` +
			tenant + ` AND revoked_at IS NULL AND replaced_by = '' ORDER BY expires_at, id LIMIT ?`
		if numbered {
			st = numberPlaceholders(st)
		}
		q.listExpiring[i] = st
	}
	return q
}

// withPurges fills purgeUsage and purgeNotices: the counters and notices
// of the keys Purge deletes (purgeWhereQ, the same condition).
func (q lcQueries) withPurges(numbered bool) lcQueries {
	for _, f := range []struct {
		dst   *string
		table string
	}{{&q.purgeUsage, "apikey_usage"}, {&q.purgeNotices, "apikey_notices"}} {
		st := `DELETE FROM ` + f.table + ` WHERE key_id IN (SELECT id FROM apikey_keys` + purgeWhereQ + `)`
		if numbered {
			st = numberPlaceholders(st)
		}
		*f.dst = st
	}
	return q
}

// numberPlaceholders replaces each ? of st by $1, $2... in order. Our
// statements hold no other question mark.
func numberPlaceholders(st string) string {
	var b strings.Builder
	n := 0
	for _, r := range st {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// fields lists every statement of q, for withTable.
func (q *lcQueries) fields() []*string {
	out := []*string{&q.deleteKey, &q.updateLifecycle, &q.addUsage, &q.usageCounts, &q.deleteUsage, &q.listUnused,
		&q.listExpiring[0], &q.listExpiring[1], &q.claimNotice, &q.releaseNotice, &q.deleteNotices,
		&q.purgeUsage, &q.purgeNotices}
	for f := range q.listOwner {
		for a := range q.listOwner[f] {
			out = append(out, &q.listOwner[f][a])
		}
	}
	return out
}

// withTable returns q with its table names under prefix.
func (q lcQueries) withTable(prefix string) lcQueries {
	for _, f := range q.fields() {
		*f = renameTables(*f, prefix)
	}
	return q
}
