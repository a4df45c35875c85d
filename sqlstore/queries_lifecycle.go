package sqlstore

// lcQueries holds the statements of the key-lifecycle features (hard
// delete, expiry changes, owners...), per dialect, beside queries and in
// the same style: $n placeholders for PostgreSQL, ? elsewhere, default
// table names renamed by WithTable.
type lcQueries struct {
	deleteKey string // id
}

var sqliteLC = lcQueries{
	deleteKey: `DELETE FROM apikey_keys WHERE id = ?`,
}

var postgresLC = lcQueries{
	deleteKey: `DELETE FROM apikey_keys WHERE id = $1`,
}

var mysqlLC = lcQueries{
	deleteKey: `DELETE FROM apikey_keys WHERE id = ?`,
}

var dialectLC = map[Dialect]lcQueries{
	SQLite:   sqliteLC,
	Postgres: postgresLC,
	MySQL:    mysqlLC,
}

// fields lists every statement of q, for withTable.
func (q *lcQueries) fields() []*string {
	return []*string{&q.deleteKey}
}

// withTable returns q with its table names under prefix.
func (q lcQueries) withTable(prefix string) lcQueries {
	for _, f := range q.fields() {
		*f = renameTables(*f, prefix)
	}
	return q
}
