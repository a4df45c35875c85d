package apikey

import (
	"reflect"
	"testing"
	"time"
)

// TestTimelessMatchesStateAt guards the clock-free fast path of Verify:
// whenever timeless reports true, StateAt must give the same answer at any
// instant as at the zero time (which Verify then passes). It sets every time.Time field of Key in turn (so a field added
// to StateAt later, and forgotten in timeless, fails here), in the past and
// in the future.
func TestTimelessMatchesStateAt(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	typ := reflect.TypeFor[Key]()
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		if f.Type != reflect.TypeFor[time.Time]() {
			continue
		}
		for _, at := range []time.Time{now.Add(-time.Hour), now.Add(time.Hour)} {
			var k Key
			reflect.ValueOf(&k).Elem().Field(i).Set(reflect.ValueOf(at))
			if !k.timeless() {
				continue
			}
			for _, probe := range []time.Time{now.Add(-2 * time.Hour), now, now.Add(2 * time.Hour)} {
				if st := k.StateAt(probe); st != k.StateAt(time.Time{}) {
					t.Errorf("%s = %v: timeless() is true but StateAt(%v) = %v, not as at the zero time", f.Name, at, probe, st)
				}
			}
		}
	}
	if (&Key{}).timeless() != true {
		t.Error("a key with no time set is not timeless")
	}
}
