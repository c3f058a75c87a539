package main

import (
	"path/filepath"
	"runtime/debug"
	"testing"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/internal/pgtest"
)

// gcPercentAfterOpen opens an engine on db with GOGC set to gogc and
// returns the collector's percentage that left, restoring the default.
func gcPercentAfterOpen(t *testing.T, db, gogc string) int {
	t.Helper()
	t.Setenv("GOGC", gogc)
	debug.SetGCPercent(100)
	e, err := openEngineWith(db, "", engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e.Close()
	return debug.SetGCPercent(100)
}

// On a store in a database server irego's heap is small and collected
// less often, unless GOGC chooses; on Badger the default stays.
func TestGCPercentFollowsTheStore(t *testing.T) {
	if got := gcPercentAfterOpen(t, pgtest.DSN(t), ""); got != 400 {
		t.Errorf("PostgreSQL store: GC percent %d, want 400", got)
	}
	if got := gcPercentAfterOpen(t, pgtest.DSN(t), "150"); got != 100 {
		t.Errorf("PostgreSQL store with GOGC=150: GC percent %d, want it untouched (100 here)", got)
	}
	if got := gcPercentAfterOpen(t, filepath.Join(t.TempDir(), "db"), ""); got != 100 {
		t.Errorf("Badger store: GC percent %d, want 100", got)
	}
}
