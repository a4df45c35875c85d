// Package storetest is the conformance suite for apikey.Store
// implementations. Every store in this module runs it, and a third-party
// store should too: it checks each contract documented on apikey.Store
// (errors, atomicity, ordering, pagination, the change feed, concurrency)
// through the Store interface alone.
//
// A store's whole test file is typically:
//
//	package mystore_test
//
//	import (
//		"testing"
//
//		"github.com/apikit/apikey"
//		"github.com/apikit/apikey/storetest"
//		"example.com/mystore"
//	)
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) apikey.Store {
//			s := mystore.New(openFreshDatabase(t)) // empty, private to t
//			return s
//		})
//	}
//
// Run one contract with the usual -run syntax, for example
// go test -run 'Conformance/Rotate/Conflict'.
package storetest
