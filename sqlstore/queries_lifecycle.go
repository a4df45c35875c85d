package sqlstore

// lcQueries holds the statements of the key-lifecycle features (hard
// delete, expiry changes, owners...), per dialect, beside queries and in
// the same style: $n placeholders for PostgreSQL, ? elsewhere, default
// table names renamed by WithTable.
type lcQueries struct {
	deleteKey string // id
	// updateLifecycle: setExpiry (1/0), expiry, setNotBefore (1/0),
	// notBefore, owner (NULL keeps), id.
	updateLifecycle string
}

var sqliteLC = lcQueries{
	deleteKey: `DELETE FROM apikey_keys WHERE id = ?`,
	updateLifecycle: `UPDATE apikey_keys SET expires_at = CASE WHEN ? = 1 THEN ? ELSE expires_at END,
		not_before = CASE WHEN ? = 1 THEN ? ELSE not_before END, owner = COALESCE(?, owner) WHERE id = ?`,
}

var postgresLC = lcQueries{
	deleteKey: `DELETE FROM apikey_keys WHERE id = $1`,
	updateLifecycle: `UPDATE apikey_keys SET expires_at = CASE WHEN $1::int = 1 THEN $2::timestamptz ELSE expires_at END,
		not_before = CASE WHEN $3::int = 1 THEN $4::timestamptz ELSE not_before END, owner = COALESCE($5::text, owner) WHERE id = $6`,
}

var mysqlLC = lcQueries{
	deleteKey: `DELETE FROM apikey_keys WHERE id = ?`,
	updateLifecycle: `UPDATE apikey_keys SET expires_at = CASE WHEN ? = 1 THEN ? ELSE expires_at END,
		not_before = CASE WHEN ? = 1 THEN ? ELSE not_before END, owner = COALESCE(?, owner) WHERE id = ?`,
}

var dialectLC = map[Dialect]lcQueries{
	SQLite:   sqliteLC,
	Postgres: postgresLC,
	MySQL:    mysqlLC,
}

// fields lists every statement of q, for withTable.
func (q *lcQueries) fields() []*string {
	return []*string{&q.deleteKey, &q.updateLifecycle}
}

// withTable returns q with its table names under prefix.
func (q lcQueries) withTable(prefix string) lcQueries {
	for _, f := range q.fields() {
		*f = renameTables(*f, prefix)
	}
	return q
}
