package storetest

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/apikit/apikey"
)

var usageCases = []testCase{
	{"ForwardOnly", testUsageForwardOnly},
	{"UnknownKeys", testUsageUnknownKeys},
	{"Batch", testUsageBatch},
}

// used returns k as it is after a recorded use u.
func used(k *apikey.Key, u apikey.Usage) *apikey.Key {
	return with(k, func(k *apikey.Key) { k.LastUsedAt, k.LastUsedIP, k.LastUsedClient = u.At, u.IP, u.Client })
}

// Each record moves LastUsedAt (with IP and client) forward only.
func testUsageForwardOnly(f *fixture) {
	k := f.create("acme", func(k *apikey.Key) { k.LastUsedAt = at(-time.Hour) })
	want := k
	seq := f.lastChange()
	for i, step := range []struct {
		u       apikey.Usage
		applied bool
	}{
		{apikey.Usage{At: at(-2 * time.Hour), IP: "10.0.0.1", Client: "old"}, false},
		{apikey.Usage{At: at(time.Minute), IP: "10.0.0.2", Client: "ci"}, true},
		{apikey.Usage{At: at(time.Minute), IP: "10.0.0.3", Client: "same instant"}, false},
		{apikey.Usage{At: at(time.Minute - time.Microsecond), IP: "10.0.0.4"}, false},
		{apikey.Usage{At: at(time.Minute + time.Microsecond), IP: "2001:db8::7"}, true},
	} {
		step.u.KeyID = k.ID
		noErr(f, "RecordUsage", f.s.RecordUsage(f.ctx, []apikey.Usage{step.u}))
		if step.applied {
			want = used(want, step.u)
		}
		f.wantKey(fmt.Sprintf("after usage record %d", i), want)
	}
	f.wantNoChanges("RecordUsage", seq)
}

// Records for missing keys are ignored; the rest of the batch applies.
func testUsageUnknownKeys(f *fixture) {
	k := f.create("acme")
	noErr(f, "RecordUsage of an empty batch", f.s.RecordUsage(f.ctx, nil))
	noErr(f, "RecordUsage of an empty batch", f.s.RecordUsage(f.ctx, []apikey.Usage{}))
	u := apikey.Usage{KeyID: k.ID, At: at(time.Minute), IP: "192.0.2.1", Client: "app"}
	batch := []apikey.Usage{
		{KeyID: f.newID(), At: at(time.Hour), IP: "192.0.2.9"},
		u,
		{KeyID: f.newID(), At: at(time.Hour)},
	}
	noErr(f, "RecordUsage with unknown keys", f.s.RecordUsage(f.ctx, batch))
	f.wantKey("after RecordUsage", used(k, u))
	if _, err := f.s.Get(f.ctx, batch[0].KeyID); err == nil {
		f.Error("RecordUsage created a key for an unknown ID")
	}
}

// A large shuffled batch leaves each key at its newest record, whatever
// the order of records within the batch.
func testUsageBatch(f *fixture) {
	var keys []*apikey.Key
	for range 10 {
		keys = append(keys, f.create("acme"))
	}
	untouched := f.create("acme")
	var batch []apikey.Usage
	newest := map[string]apikey.Usage{}
	for i, k := range keys {
		for j := range 50 {
			u := apikey.Usage{KeyID: k.ID, At: at(time.Duration(j*7%50) * time.Second), IP: fmt.Sprintf("10.0.%d.%d", i, j), Client: fmt.Sprint("c", j)}
			batch = append(batch, u)
			if u.At.After(newest[k.ID].At) {
				newest[k.ID] = u
			}
		}
	}
	rand.Shuffle(len(batch), func(i, j int) { batch[i], batch[j] = batch[j], batch[i] })
	noErr(f, "RecordUsage of 500 records", f.s.RecordUsage(f.ctx, batch))
	for _, k := range keys {
		f.wantKey("after a batch", used(k, newest[k.ID]))
	}
	f.wantKey("key with no usage record", untouched)
}
