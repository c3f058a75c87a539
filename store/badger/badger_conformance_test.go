package badger

import (
	"testing"

	"github.com/irego/irego/store"
	"github.com/irego/irego/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		db, err := Open(Options{InMemory: true})
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
}

func TestConformanceOnDisk(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		db, err := Open(Options{Dir: t.TempDir(), SyncWrites: true})
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
}
