// Package follow keeps a Manager's verification cache (apikey.WithCache)
// in step with the changes other processes make on the same store, by
// reading the store's change feed.
//
//	m, err := apikey.New(store, apikey.WithPepper("v1", pepper), apikey.WithCache(apikey.CacheOptions{}))
//	f, err := follow.New(m) // follow.WithInterval(...)
//	if err := f.Start(ctx); err != nil { ... }
//	defer f.Stop() // before closing the database
//
// A single process, or one without a cache, needs no Follower.
package follow
