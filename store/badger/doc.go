// Package badger is the embedded default store: store.Store on Badger v4.
package badger
