package sqlstore

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNoSchema is wrapped by the errors of a store whose tables do not
// exist (or not under its WithTable prefix): the database was never
// migrated. Run Migrate (or apply Schema) once before use.
var ErrNoSchema = errors.New("sqlstore: the apikey tables do not exist; run sqlstore.Migrate (or apply sqlstore.Schema) first")

// hint returns err wrapped with ErrNoSchema when it is the dialect's
// "no such table" error, and err itself otherwise. It runs only on error
// paths.
func (s *Store) hint(err error) error {
	if err == nil || errors.Is(err, ErrNoSchema) || !missingTable(s.dialect, err.Error()) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrNoSchema, err)
}

// missingTable reports whether msg is the dialect's error for a table
// that does not exist: SQLite "no such table: t", PostgreSQL (SQLSTATE
// 42P01) `relation "t" does not exist`, MySQL and MariaDB (error 1146)
// "Table 'db.t' doesn't exist".
func missingTable(d Dialect, msg string) bool {
	switch d {
	case SQLite:
		return strings.Contains(msg, "no such table")
	case Postgres:
		return strings.Contains(msg, "SQLSTATE 42P01") || strings.Contains(msg, `relation "`) && strings.Contains(msg, "does not exist")
	case MySQL:
		return strings.Contains(msg, "Error 1146") || strings.Contains(msg, "Table '") && strings.Contains(msg, "doesn't exist")
	}
	return false
}
