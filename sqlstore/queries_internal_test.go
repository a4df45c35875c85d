package sqlstore

import (
	"reflect"
	"strings"
	"testing"
)

// fields must list every statement, or WithTable would miss one.
func TestFieldsCoverQueries(t *testing.T) {
	var q queries
	if got, want := len(q.fields()), reflect.TypeFor[queries]().NumField(); got != want {
		t.Fatalf("fields lists %d statements, queries has %d", got, want)
	}
	for d, dq := range dialectQueries {
		renamed := dq.withTable("acct")
		v := reflect.ValueOf(renamed)
		for i := range v.NumField() {
			if s := v.Field(i).String(); strings.Contains(s, "apikey_") {
				t.Errorf("%v: %s still names apikey_ tables: %s", d, reflect.TypeFor[queries]().Field(i).Name, s)
			}
		}
	}
}
