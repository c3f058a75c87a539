package badger

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/irego/irego/store"
)

// A directory that held a store and lost every Badger file but irego's
// marker is refused, not opened as a new, empty store.
func TestMarkerWithoutManifestIsRefused(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != markerFile {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	if _, err := Open(Options{Dir: dir}); !errors.Is(err, store.ErrDamaged) {
		t.Fatalf("Open of a store without its MANIFEST: %v, want store.ErrDamaged", err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 1 {
		t.Errorf("the refused open left %d files, want only the marker", len(left))
	}
}

// A panic in the caller's own callback is the caller's: it is not taken
// for damage to the store.
func TestIteratePanicInCallbackPropagates(t *testing.T) {
	db, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	txn := db.NewTxn()
	txn.Set([]byte("k"), []byte("v"))
	if err := txn.Commit(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if r := recover(); r != "mine" {
			t.Errorf("recovered %v, want the callback's own panic", r)
		}
	}()
	db.View(func(r store.Reader) error {
		return r.Iterate(nil, func(_, _ []byte) error { panic("mine") })
	})
	t.Error("the callback's panic was swallowed")
}
