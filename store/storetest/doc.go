// Package storetest is the conformance suite of the store interface: every
// backend (store/badger, store/postgres) runs the same tests and the same
// rapid properties from its own tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { … a new, empty store … })
//	}
//
// The suite closes every store it opens. It asks of a backend what the
// engine relies on: reads see the transaction's own writes, prefix
// iteration is ordered and exact, commits are atomic, and of two
// transactions that read a key and then write it, at most one commits.
// It does not ask that transactions touching different keys never
// conflict: a backend may detect conflicts coarsely.
package storetest
