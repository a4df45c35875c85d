package sqlstore

// queries holds every statement the store runs, for one dialect. The three
// dialects are written out side by side below; placeholders are $n for
// PostgreSQL and ? for SQLite and MySQL. Table names use the default prefix
// "apikey_" and are renamed by WithTable.
type queries struct {
	insertKey   string // 32 columns, in keyCols order
	getByID     string // id
	getByLookup string // lookup
	dupCount    string // id, lookup: rows sharing either (after a failed insert)
	keyExists   string // id

	// List: tenant, [after,] [at,] limit, newest first.
	listAll          string
	listAllAfter     string
	listActive       string
	listActiveAfter  string
	listRevoked      string
	listRevokedAfter string
	listTenant       string // tenant: every key, for RevokeAll

	feedLock string // serialises change-feed writers ("" where not needed)
	feedKey  string // kind, at, id: one feed entry for key id

	revoke         string // at, id
	revokeAll      string // at, tenant (PostgreSQL: with its feed entries, returning the revoked IDs)
	revokedIDs     string // tenant: IDs RevokeAll is about to revoke ("" on PostgreSQL: revokeAll returns them)
	feedRevokeAll  string // at, tenant ("" on PostgreSQL: revokeAll writes the feed)
	rotate         string // successor, grace, revokedAt, id
	update         string // name, scopes, metadata (NULL keeps), id
	upgradeHash    string // version, hash, id, from
	recordUsage    string // at, ip, client, id, at
	dueForRotation string // now, limit
	claimRotation  string // next, id, due (null-safe equality)
	rotationIs     string // id, due: count of rows whose next_rotation_at is due

	purgeKeys     string // cutoff x3
	maxPurgeable  string // cutoff: highest seq of entries older than cutoff
	purgeChanges  string // seq: delete entries up to seq
	setTrimmed    string // seq, seq
	changes       string // after, limit
	trimmed       string // highest purged seq
	lastChange    string // max(seq, trimmed)
	migrateLock   string // PostgreSQL: advisory lock key
	schemaVersion string

	setSchemaVersion string // version
	updateControls   string // disabled, rate_limits, ip_allowlist (NULL keeps), id
	updateCredits    string // remaining, refill amount, refill interval, last refill, id
	readCredits      string // id: remaining, refill amount, refill interval, last refill
	casCredits       string // remaining, last refill, id, old remaining, old last refill (null-safe)
	returnCredits    string // n, id, period (null-safe)
}

// keyCols is the column list of every key read and insert, in the order
// scanKey and keyArgs use.
const keyCols = `id, tenant, environment, name, prefix, lookup, hash_version, hash, scopes, created_by,
	created_at, expires_at, last_used_at, last_used_ip, last_used_client, revoked_at, replaced_by,
	grace_expires_at, rotation_interval, next_rotation_at, rotation_webhook_url, webhook_secret, metadata,
	disabled, rate_limits, ip_allowlist, credits_remaining, credits_refill_amount, credits_refill_interval,
	credits_last_refill,
	not_before, owner`

const (
	selectKeys = `SELECT ` + keyCols + ` FROM apikey_keys`
	// activeAt is the ListActive filter: not revoked, not out of grace and
	// not expired at the bound instant (boundaries exclusive, as StateAt).
	activeQ      = ` AND (revoked_at IS NULL OR revoked_at > ?) AND (grace_expires_at IS NULL OR grace_expires_at > ?) AND (expires_at IS NULL OR expires_at > ?)`
	purgeWhereQ  = ` WHERE revoked_at < ? OR grace_expires_at < ? OR expires_at < ?`
	changeCols   = `seq, key_id, lookup, tenant, kind, at`
	insertChange = `INSERT INTO apikey_changes (key_id, lookup, tenant, kind, at) `
)

var sqliteQueries = queries{
	insertKey: `INSERT INTO apikey_keys (` + keyCols + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
			?, ?)`,
	getByID:     selectKeys + ` WHERE id = ?`,
	getByLookup: selectKeys + ` WHERE lookup = ?`,
	dupCount:    `SELECT COUNT(*) FROM apikey_keys WHERE id = ? OR lookup = ?`,
	keyExists:   `SELECT COUNT(*) FROM apikey_keys WHERE id = ?`,

	listAll:          selectKeys + ` WHERE tenant = ? ORDER BY id DESC LIMIT ?`,
	listAllAfter:     selectKeys + ` WHERE tenant = ? AND id < ? ORDER BY id DESC LIMIT ?`,
	listActive:       selectKeys + ` WHERE tenant = ?` + activeQ + ` ORDER BY id DESC LIMIT ?`,
	listActiveAfter:  selectKeys + ` WHERE tenant = ? AND id < ?` + activeQ + ` ORDER BY id DESC LIMIT ?`,
	listRevoked:      selectKeys + ` WHERE tenant = ? AND revoked_at IS NOT NULL ORDER BY id DESC LIMIT ?`,
	listRevokedAfter: selectKeys + ` WHERE tenant = ? AND id < ? AND revoked_at IS NOT NULL ORDER BY id DESC LIMIT ?`,
	listTenant:       selectKeys + ` WHERE tenant = ? ORDER BY id DESC`,

	feedLock: ``, // one writer at a time already
	feedKey:  insertChange + `SELECT id, lookup, tenant, ?, ? FROM apikey_keys WHERE id = ?`,

	revoke:        `UPDATE apikey_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`,
	revokeAll:     `UPDATE apikey_keys SET revoked_at = ? WHERE tenant = ? AND revoked_at IS NULL`,
	revokedIDs:    `SELECT id FROM apikey_keys WHERE tenant = ? AND revoked_at IS NULL`,
	feedRevokeAll: insertChange + `SELECT id, lookup, tenant, 'revoked', ? FROM apikey_keys WHERE tenant = ? AND revoked_at IS NULL ORDER BY id`,
	rotate: `UPDATE apikey_keys SET replaced_by = ?, grace_expires_at = ?, revoked_at = ?, next_rotation_at = NULL
		WHERE id = ? AND replaced_by = '' AND revoked_at IS NULL`,
	update: `UPDATE apikey_keys SET name = COALESCE(?, name), scopes = COALESCE(?, scopes), metadata = COALESCE(?, metadata)
		WHERE id = ?`,
	upgradeHash: `UPDATE apikey_keys SET hash_version = ?, hash = ? WHERE id = ? AND hash_version = ?`,
	recordUsage: `UPDATE apikey_keys SET last_used_at = ?, last_used_ip = ?, last_used_client = ?
		WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`,
	dueForRotation: selectKeys + ` WHERE next_rotation_at IS NOT NULL AND next_rotation_at <= ?
		AND revoked_at IS NULL AND replaced_by = '' ORDER BY next_rotation_at, id LIMIT ?`,
	claimRotation: `UPDATE apikey_keys SET next_rotation_at = ? WHERE id = ? AND next_rotation_at IS ?`,
	rotationIs:    `SELECT COUNT(*) FROM apikey_keys WHERE id = ? AND next_rotation_at IS ?`,

	purgeKeys:        `DELETE FROM apikey_keys` + purgeWhereQ,
	maxPurgeable:     `SELECT MAX(seq) FROM apikey_changes WHERE at < ?`,
	purgeChanges:     `DELETE FROM apikey_changes WHERE seq <= ?`,
	setTrimmed:       `UPDATE apikey_meta SET value = ? WHERE name = 'changes_trimmed' AND value < ?`,
	changes:          `SELECT ` + changeCols + ` FROM apikey_changes WHERE seq > ? ORDER BY seq LIMIT ?`,
	trimmed:          `SELECT value FROM apikey_meta WHERE name = 'changes_trimmed'`,
	lastChange:       `SELECT max(COALESCE((SELECT MAX(seq) FROM apikey_changes), 0), COALESCE((SELECT value FROM apikey_meta WHERE name = 'changes_trimmed'), 0))`,
	migrateLock:      ``,
	schemaVersion:    `SELECT value FROM apikey_meta WHERE name = 'schema_version'`,
	setSchemaVersion: `UPDATE apikey_meta SET value = ? WHERE name = 'schema_version'`,
	updateControls: `UPDATE apikey_keys SET disabled = COALESCE(?, disabled), rate_limits = COALESCE(?, rate_limits),
		ip_allowlist = COALESCE(?, ip_allowlist) WHERE id = ?`,
	updateCredits: `UPDATE apikey_keys SET credits_remaining = ?, credits_refill_amount = ?, credits_refill_interval = ?,
		credits_last_refill = ? WHERE id = ?`,
	readCredits: `SELECT credits_remaining, credits_refill_amount, credits_refill_interval, credits_last_refill
		FROM apikey_keys WHERE id = ?`,
	casCredits: `UPDATE apikey_keys SET credits_remaining = ?, credits_last_refill = ?
		WHERE id = ? AND credits_remaining = ? AND credits_last_refill IS ?`,
	returnCredits: `UPDATE apikey_keys SET credits_remaining = credits_remaining + ?
		WHERE id = ? AND credits_remaining IS NOT NULL AND credits_last_refill IS ?`,
}

var postgresQueries = queries{
	insertKey: `INSERT INTO apikey_keys (` + keyCols + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30,
			$31, $32)`,
	getByID:     selectKeys + ` WHERE id = $1`,
	getByLookup: selectKeys + ` WHERE lookup = $1`,
	dupCount:    `SELECT COUNT(*) FROM apikey_keys WHERE id = $1 OR lookup = $2`,
	keyExists:   `SELECT COUNT(*) FROM apikey_keys WHERE id = $1`,

	listAll:      selectKeys + ` WHERE tenant = $1 ORDER BY id DESC LIMIT $2`,
	listAllAfter: selectKeys + ` WHERE tenant = $1 AND id < $2 ORDER BY id DESC LIMIT $3`,
	listActive: selectKeys + ` WHERE tenant = $1
		AND (revoked_at IS NULL OR revoked_at > $2) AND (grace_expires_at IS NULL OR grace_expires_at > $3)
		AND (expires_at IS NULL OR expires_at > $4) ORDER BY id DESC LIMIT $5`,
	listActiveAfter: selectKeys + ` WHERE tenant = $1 AND id < $2
		AND (revoked_at IS NULL OR revoked_at > $3) AND (grace_expires_at IS NULL OR grace_expires_at > $4)
		AND (expires_at IS NULL OR expires_at > $5) ORDER BY id DESC LIMIT $6`,
	listRevoked:      selectKeys + ` WHERE tenant = $1 AND revoked_at IS NOT NULL ORDER BY id DESC LIMIT $2`,
	listRevokedAfter: selectKeys + ` WHERE tenant = $1 AND id < $2 AND revoked_at IS NOT NULL ORDER BY id DESC LIMIT $3`,
	listTenant:       selectKeys + ` WHERE tenant = $1 ORDER BY id DESC`,

	feedLock: `SELECT value FROM apikey_meta WHERE name = 'feed_lock' FOR UPDATE`,
	feedKey:  insertChange + `SELECT id, lookup, tenant, $1::text, $2::timestamptz FROM apikey_keys WHERE id = $3`,

	revoke: `UPDATE apikey_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`,
	// One statement revokes and writes the feed, so a key created
	// concurrently is either in both or in neither.
	revokeAll: `WITH r AS (
			UPDATE apikey_keys SET revoked_at = $1 WHERE tenant = $2 AND revoked_at IS NULL
			RETURNING id, lookup, tenant
		)
		` + insertChange + `SELECT id, lookup, tenant, 'revoked', $1 FROM r ORDER BY id
		RETURNING key_id`,
	revokedIDs:    ``,
	feedRevokeAll: ``,
	rotate: `UPDATE apikey_keys SET replaced_by = $1, grace_expires_at = $2, revoked_at = $3, next_rotation_at = NULL
		WHERE id = $4 AND replaced_by = '' AND revoked_at IS NULL`,
	update: `UPDATE apikey_keys SET name = COALESCE($1, name), scopes = COALESCE($2, scopes), metadata = COALESCE($3, metadata)
		WHERE id = $4`,
	upgradeHash: `UPDATE apikey_keys SET hash_version = $1, hash = $2 WHERE id = $3 AND hash_version = $4`,
	recordUsage: `UPDATE apikey_keys SET last_used_at = $1, last_used_ip = $2, last_used_client = $3
		WHERE id = $4 AND (last_used_at IS NULL OR last_used_at < $5)`,
	dueForRotation: selectKeys + ` WHERE next_rotation_at IS NOT NULL AND next_rotation_at <= $1
		AND revoked_at IS NULL AND replaced_by = '' ORDER BY next_rotation_at, id LIMIT $2`,
	claimRotation: `UPDATE apikey_keys SET next_rotation_at = $1 WHERE id = $2 AND next_rotation_at IS NOT DISTINCT FROM $3`,
	rotationIs:    `SELECT COUNT(*) FROM apikey_keys WHERE id = $1 AND next_rotation_at IS NOT DISTINCT FROM $2`,

	purgeKeys:        `DELETE FROM apikey_keys WHERE revoked_at < $1 OR grace_expires_at < $2 OR expires_at < $3`,
	maxPurgeable:     `SELECT MAX(seq) FROM apikey_changes WHERE at < $1`,
	purgeChanges:     `DELETE FROM apikey_changes WHERE seq <= $1`,
	setTrimmed:       `UPDATE apikey_meta SET value = $1 WHERE name = 'changes_trimmed' AND value < $2`,
	changes:          `SELECT ` + changeCols + ` FROM apikey_changes WHERE seq > $1 ORDER BY seq LIMIT $2`,
	trimmed:          `SELECT value FROM apikey_meta WHERE name = 'changes_trimmed'`,
	lastChange:       `SELECT GREATEST(COALESCE((SELECT MAX(seq) FROM apikey_changes), 0), COALESCE((SELECT value FROM apikey_meta WHERE name = 'changes_trimmed'), 0))`,
	migrateLock:      `SELECT pg_advisory_xact_lock($1)`,
	schemaVersion:    `SELECT value FROM apikey_meta WHERE name = 'schema_version'`,
	setSchemaVersion: `UPDATE apikey_meta SET value = $1 WHERE name = 'schema_version'`,
	updateControls: `UPDATE apikey_keys SET disabled = COALESCE($1, disabled), rate_limits = COALESCE($2, rate_limits),
		ip_allowlist = COALESCE($3, ip_allowlist) WHERE id = $4`,
	updateCredits: `UPDATE apikey_keys SET credits_remaining = $1, credits_refill_amount = $2, credits_refill_interval = $3,
		credits_last_refill = $4 WHERE id = $5`,
	readCredits: `SELECT credits_remaining, credits_refill_amount, credits_refill_interval, credits_last_refill
		FROM apikey_keys WHERE id = $1`,
	casCredits: `UPDATE apikey_keys SET credits_remaining = $1, credits_last_refill = $2
		WHERE id = $3 AND credits_remaining = $4 AND credits_last_refill IS NOT DISTINCT FROM $5`,
	returnCredits: `UPDATE apikey_keys SET credits_remaining = credits_remaining + $1
		WHERE id = $2 AND credits_remaining IS NOT NULL AND credits_last_refill IS NOT DISTINCT FROM $3`,
}

var mysqlQueries = queries{
	insertKey: `INSERT INTO apikey_keys (` + keyCols + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
			?, ?)`,
	getByID:     selectKeys + ` WHERE id = ?`,
	getByLookup: selectKeys + ` WHERE lookup = ?`,
	dupCount:    `SELECT COUNT(*) FROM apikey_keys WHERE id = ? OR lookup = ?`,
	keyExists:   `SELECT COUNT(*) FROM apikey_keys WHERE id = ?`,

	listAll:          selectKeys + ` WHERE tenant = ? ORDER BY id DESC LIMIT ?`,
	listAllAfter:     selectKeys + ` WHERE tenant = ? AND id < ? ORDER BY id DESC LIMIT ?`,
	listActive:       selectKeys + ` WHERE tenant = ?` + activeQ + ` ORDER BY id DESC LIMIT ?`,
	listActiveAfter:  selectKeys + ` WHERE tenant = ? AND id < ?` + activeQ + ` ORDER BY id DESC LIMIT ?`,
	listRevoked:      selectKeys + ` WHERE tenant = ? AND revoked_at IS NOT NULL ORDER BY id DESC LIMIT ?`,
	listRevokedAfter: selectKeys + ` WHERE tenant = ? AND id < ? AND revoked_at IS NOT NULL ORDER BY id DESC LIMIT ?`,
	listTenant:       selectKeys + ` WHERE tenant = ? ORDER BY id DESC`,

	feedLock: `SELECT value FROM apikey_meta WHERE name = 'feed_lock' FOR UPDATE`,
	feedKey:  insertChange + `SELECT id, lookup, tenant, ?, ? FROM apikey_keys WHERE id = ?`,

	revoke:    `UPDATE apikey_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`,
	revokeAll: `UPDATE apikey_keys SET revoked_at = ? WHERE tenant = ? AND revoked_at IS NULL`,
	// A locking read: the same rows the UPDATE below will change.
	revokedIDs: `SELECT id FROM apikey_keys WHERE tenant = ? AND revoked_at IS NULL FOR UPDATE`,
	// Runs first, in the same transaction: under REPEATABLE READ its
	// next-key locks keep new keys of the tenant out until the commit.
	feedRevokeAll: insertChange + `SELECT id, lookup, tenant, 'revoked', ? FROM apikey_keys WHERE tenant = ? AND revoked_at IS NULL ORDER BY id`,
	rotate: `UPDATE apikey_keys SET replaced_by = ?, grace_expires_at = ?, revoked_at = ?, next_rotation_at = NULL
		WHERE id = ? AND replaced_by = '' AND revoked_at IS NULL`,
	update: `UPDATE apikey_keys SET name = COALESCE(?, name), scopes = COALESCE(?, scopes), metadata = COALESCE(?, metadata)
		WHERE id = ?`,
	upgradeHash: `UPDATE apikey_keys SET hash_version = ?, hash = ? WHERE id = ? AND hash_version = ?`,
	recordUsage: `UPDATE apikey_keys SET last_used_at = ?, last_used_ip = ?, last_used_client = ?
		WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`,
	dueForRotation: selectKeys + ` WHERE next_rotation_at IS NOT NULL AND next_rotation_at <= ?
		AND revoked_at IS NULL AND replaced_by = '' ORDER BY next_rotation_at, id LIMIT ?`,
	claimRotation: `UPDATE apikey_keys SET next_rotation_at = ? WHERE id = ? AND next_rotation_at <=> ?`,
	rotationIs:    `SELECT COUNT(*) FROM apikey_keys WHERE id = ? AND next_rotation_at <=> ?`,

	purgeKeys:        `DELETE FROM apikey_keys` + purgeWhereQ,
	maxPurgeable:     `SELECT MAX(seq) FROM apikey_changes WHERE at < ?`,
	purgeChanges:     `DELETE FROM apikey_changes WHERE seq <= ?`,
	setTrimmed:       `UPDATE apikey_meta SET value = ? WHERE name = 'changes_trimmed' AND value < ?`,
	changes:          `SELECT ` + changeCols + ` FROM apikey_changes WHERE seq > ? ORDER BY seq LIMIT ?`,
	trimmed:          `SELECT value FROM apikey_meta WHERE name = 'changes_trimmed'`,
	lastChange:       `SELECT GREATEST(COALESCE((SELECT MAX(seq) FROM apikey_changes), 0), COALESCE((SELECT value FROM apikey_meta WHERE name = 'changes_trimmed'), 0))`,
	migrateLock:      ``,
	schemaVersion:    `SELECT value FROM apikey_meta WHERE name = 'schema_version'`,
	setSchemaVersion: `UPDATE apikey_meta SET value = ? WHERE name = 'schema_version'`,
	updateControls: `UPDATE apikey_keys SET disabled = COALESCE(?, disabled), rate_limits = COALESCE(?, rate_limits),
		ip_allowlist = COALESCE(?, ip_allowlist) WHERE id = ?`,
	updateCredits: `UPDATE apikey_keys SET credits_remaining = ?, credits_refill_amount = ?, credits_refill_interval = ?,
		credits_last_refill = ? WHERE id = ?`,
	readCredits: `SELECT credits_remaining, credits_refill_amount, credits_refill_interval, credits_last_refill
		FROM apikey_keys WHERE id = ?`,
	casCredits: `UPDATE apikey_keys SET credits_remaining = ?, credits_last_refill = ?
		WHERE id = ? AND credits_remaining = ? AND credits_last_refill <=> ?`,
	returnCredits: `UPDATE apikey_keys SET credits_remaining = credits_remaining + ?
		WHERE id = ? AND credits_remaining IS NOT NULL AND credits_last_refill <=> ?`,
}

var dialectQueries = map[Dialect]queries{
	SQLite:   sqliteQueries,
	Postgres: postgresQueries,
	MySQL:    mysqlQueries,
}

// fields lists every statement of q, for withTable.
func (q *queries) fields() []*string {
	return []*string{
		&q.insertKey, &q.getByID, &q.getByLookup, &q.dupCount, &q.keyExists,
		&q.listAll, &q.listAllAfter, &q.listActive, &q.listActiveAfter, &q.listRevoked, &q.listRevokedAfter, &q.listTenant,
		&q.feedLock, &q.feedKey, &q.revoke, &q.revokeAll, &q.revokedIDs, &q.feedRevokeAll, &q.rotate, &q.update, &q.upgradeHash,
		&q.recordUsage, &q.dueForRotation, &q.claimRotation, &q.rotationIs,
		&q.purgeKeys, &q.maxPurgeable, &q.purgeChanges, &q.setTrimmed, &q.changes, &q.trimmed, &q.lastChange,
		&q.migrateLock, &q.schemaVersion,
		&q.setSchemaVersion, &q.updateControls, &q.updateCredits, &q.readCredits, &q.casCredits, &q.returnCredits,
	}
}

// withTable returns q with its table names under prefix.
func (q queries) withTable(prefix string) queries {
	for _, f := range q.fields() {
		*f = renameTables(*f, prefix)
	}
	return q
}
