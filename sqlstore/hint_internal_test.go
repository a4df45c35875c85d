package sqlstore

import (
	"errors"
	"testing"
)

func TestMissingTable(t *testing.T) {
	cases := []struct {
		d    Dialect
		msg  string
		want bool
	}{
		{SQLite, "SQL logic error: no such table: apikey_keys (1)", true},
		{Postgres, `ERROR: relation "apikey_keys" does not exist (SQLSTATE 42P01)`, true},
		{MySQL, "Error 1146 (42S02): Table 'test.apikey_keys' doesn't exist", true},
		{SQLite, "database is locked", false},
		{Postgres, "connection refused", false},
		{MySQL, "Error 1062 (23000): Duplicate entry", false},
		{MySQL, "no such table: x", false}, // another dialect's words
	}
	for _, c := range cases {
		s := &Store{dialect: c.d}
		err := s.hint(errors.New(c.msg))
		if got := errors.Is(err, ErrNoSchema); got != c.want {
			t.Errorf("%v %q: ErrNoSchema %v, want %v", c.d, c.msg, got, c.want)
		}
	}
	if (&Store{dialect: SQLite}).hint(nil) != nil {
		t.Error("hint(nil) != nil")
	}
}
